"""Vendor providers by type name: one factory each, fed from a provider's ``settings``.

``make(config)`` builds the provider of ``config.type`` from ``config.settings``
(``tidings.toml``), taking secrets only from the environment variables the
settings name (``*_env`` keys); a missing variable or an unknown key is a
``ProviderConfigError`` naming the key, never a value. The operator's
top-level fields ``service_url``, ``user`` and ``secret_env`` fill the type's
own setting (twilio: ``base_url``, ``account_sid``, ``auth_token_env``; ses:
``endpoint_url``, ``access_key_id``, ``secret_access_key_env``; http_sms:
``url``, ``basic_username``, ``secret_env``; webpush: ``vapid_private_key_env``;
print_api: ``base_url``, ``api_key_env``; print_batch: ``sftp://user@host:port/dir``,
``username``, ``client_key_env``) unless ``settings`` gives it. ``CHANNEL_KIND`` tells
the dispatcher which channel builder feeds each type (``channels_build``);
builder keys (``default_region``, ``page_size``...) may sit in the same table.

    type         settings (secrets as *_env)                          channel
    -----------  ---------------------------------------------------  -------
    ses          region, configuration_set, tags, endpoint_url,       email
                 access_key_id, secret_access_key_env, timeout_seconds
    twilio       account_sid, auth_token_env, sender (else the        sms
                 provider's from_address), messaging_service_sid,
                 status_callback, base_url, max_segments, timeout_seconds
    http_sms     url, method, encoding, body, query, headers,         sms
                 basic_username, id_pointer, status_pointer,
                 accepted_values, error_pointer, secret_env, sender,
                 max_segments, timeout_seconds
    webpush      vapid_private_key_env, subject (else mailto:         push
                 from_address), timeout_seconds
    print_api    api_key_env, return_address (table), base_url,       print
                 color, double_sided, address_placement, mail_type,
                 use_type, max_message_bytes, timeout_seconds
    print_batch  host, port, username, client_key_env, host_key,      print
                 remote_dir, timeout_seconds
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from pydantic import SecretStr

from tidings.clock import Clock
from tidings.providers import errors, http_sms
from tidings.providers.base import Provider

__all__ = ["BUILDER_KEYS", "CHANNEL_KIND", "TYPES", "ProviderSpec", "make"]

BUILDER_KEYS: dict[str, frozenset[str]] = {
    "email": frozenset(),
    "sms": frozenset({"default_region", "max_segments", "sender"}),
    "push": frozenset({"ttl_seconds", "urgency", "allow_insecure_endpoints", "allowed_hosts"}),
    "print": frozenset({"page_size", "sender_line", "origin_country", "assets_base_url"}),
}


class ProviderSpec(Protocol):
    """What ``make`` reads of a provider's configuration (``project.model.ProviderConfig``)."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def settings(self) -> dict[str, Any]: ...
    @property
    def bulk_size(self) -> int: ...
    @property
    def from_address(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class _Context:
    """One ``make`` call: the configuration, its settings and where secrets come from."""

    spec: ProviderSpec
    settings: dict[str, Any]
    env: Mapping[str, str]
    clock: Clock | None

    def get(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)

    def required(self, key: str) -> Any:
        if self.settings.get(key) in (None, ""):
            raise errors.ProviderConfigError(f"provider {self.spec.name}: settings.{key} "
                                             f"is required for type {self.spec.type}")
        return self.settings[key]

    def secret(self, key: str, *, required: bool = True) -> SecretStr | None:
        """The value of the environment variable named by ``settings.<key>_env``."""
        variable = self.settings.get(f"{key}_env")
        if variable is None:
            if required:
                raise errors.ProviderConfigError(
                    f"provider {self.spec.name}: settings.{key}_env must name the "
                    f"environment variable holding the {key}")
            return None
        value = self.env.get(str(variable))
        if not value:
            raise errors.ProviderConfigError(f"provider {self.spec.name}: environment "
                                             f"variable {variable} is not set")
        return SecretStr(value)

    def timeout(self, default: float) -> float:
        return float(self.get("timeout_seconds", default))


# Each factory imports its vendor module when first used: together they would add
# ~4 s to every process start (WeasyPrint, boto3, pywebpush's aiohttp, asyncssh).


def _ses(c: _Context) -> Provider:
    from tidings.providers import ses

    return ses.SesProvider(
        c.spec.name, region=str(c.required("region")),
        configuration_set=c.get("configuration_set"), tags=c.get("tags"),
        endpoint_url=c.get("endpoint_url"), access_key_id=c.get("access_key_id"),
        secret_access_key=c.secret("secret_access_key", required=False),
        timeout_seconds=c.timeout(ses.DEFAULT_TIMEOUT_SECONDS), max_batch=c.spec.bulk_size)


def _twilio(c: _Context) -> Provider:
    from tidings.providers import twilio

    token = c.secret("auth_token")
    assert token is not None
    return twilio.TwilioProvider(
        c.spec.name, str(c.required("account_sid")), token,
        sender=c.get("sender") or c.spec.from_address,
        messaging_service_sid=c.get("messaging_service_sid"),
        status_callback=c.get("status_callback"), base_url=c.get("base_url", twilio.API_BASE),
        max_segments=c.get("max_segments", 10),
        timeout_seconds=c.timeout(twilio.DEFAULT_TIMEOUT_SECONDS), max_batch=c.spec.bulk_size)


_HTTP_SMS_OWN = frozenset({"secret_env", "sender", "max_segments", "timeout_seconds"})


def _http_sms(c: _Context) -> Provider:
    shape_keys = set(http_sms.RequestShape.__dataclass_fields__)
    shape = http_sms.RequestShape.from_settings(
        {k: v for k, v in c.settings.items() if k in shape_keys})
    return http_sms.HttpSmsProvider(
        c.spec.name, shape, secret=c.secret("secret", required=False),
        sender=c.get("sender") or c.spec.from_address, max_segments=c.get("max_segments", 10),
        timeout_seconds=c.timeout(http_sms.DEFAULT_TIMEOUT_SECONDS), max_batch=c.spec.bulk_size)


def _webpush(c: _Context) -> Provider:
    from tidings.providers import webpush

    key = c.secret("vapid_private_key")
    assert key is not None
    subject = c.get("subject") or (f"mailto:{c.spec.from_address}" if c.spec.from_address
                                   else None)
    if not subject:
        raise errors.ProviderConfigError(f"provider {c.spec.name}: settings.subject "
                                         "(mailto: or https: contact) is required")
    return webpush.WebPushProvider(
        c.spec.name, key, str(subject), clock=c.clock,
        timeout_seconds=c.timeout(webpush.DEFAULT_TIMEOUT_SECONDS), max_batch=c.spec.bulk_size)


def _print_api(c: _Context) -> Provider:
    from tidings.channels_build import letter
    from tidings.providers import print_api

    key = c.secret("api_key")
    assert key is not None
    try:
        return_address = letter.parse_address(c.required("return_address"))
    except ValueError as exc:
        raise errors.ProviderConfigError(f"provider {c.spec.name}: return_address: {exc}") \
            from exc
    return print_api.PrintApiProvider(
        c.spec.name, key, return_address, base_url=c.get("base_url", print_api.API_BASE),
        color=bool(c.get("color", False)), double_sided=bool(c.get("double_sided", False)),
        address_placement=c.get("address_placement", "top_first_page"),
        mail_type=c.get("mail_type", "usps_first_class"),
        use_type=c.get("use_type", "operational"),
        max_message_bytes=c.get("max_message_bytes"),
        timeout_seconds=c.timeout(print_api.DEFAULT_TIMEOUT_SECONDS),
        max_batch=c.spec.bulk_size)


def _print_batch(c: _Context) -> Provider:
    from tidings.providers import print_batch

    key = c.secret("client_key")
    assert key is not None
    return print_batch.PrintBatchProvider(
        c.spec.name, host=str(c.required("host")), port=int(c.get("port", 22)),
        username=str(c.required("username")), client_key=key,
        host_key=str(c.required("host_key")), remote_dir=str(c.get("remote_dir", ".")),
        timeout_seconds=c.timeout(print_batch.DEFAULT_TIMEOUT_SECONDS),
        max_batch=c.spec.bulk_size)


@dataclass(frozen=True, slots=True)
class _Entry:
    factory: Callable[[_Context], Provider]
    kind: str
    keys: frozenset[str]


def _keys(*names: str) -> frozenset[str]:
    return frozenset(names) | {"timeout_seconds"}


_ENTRIES: dict[str, _Entry] = {
    "ses": _Entry(_ses, "email", _keys("region", "configuration_set", "tags", "endpoint_url",
                                       "access_key_id", "secret_access_key_env")),
    "twilio": _Entry(_twilio, "sms", _keys("account_sid", "auth_token_env", "sender",
                                           "messaging_service_sid", "status_callback",
                                           "base_url", "max_segments")),
    "http_sms": _Entry(_http_sms, "sms", _HTTP_SMS_OWN
                       | frozenset(http_sms.RequestShape.__dataclass_fields__)),
    "webpush": _Entry(_webpush, "push", _keys("vapid_private_key_env", "subject")),
    "print_api": _Entry(_print_api, "print", _keys(
        "api_key_env", "return_address", "base_url", "color", "double_sided",
        "address_placement", "mail_type", "use_type", "max_message_bytes")),
    "print_batch": _Entry(_print_batch, "print", _keys(
        "host", "port", "username", "client_key_env", "host_key", "remote_dir")),
}
TYPES = frozenset(_ENTRIES)
CHANNEL_KIND: dict[str, str] = {name: entry.kind for name, entry in _ENTRIES.items()}


# The operator's top-level provider fields, folded into each type's own setting
# (the setting wins when both are given).
_TOP_LEVEL: dict[str, dict[str, str]] = {
    "ses": {"service_url": "endpoint_url", "user": "access_key_id",
            "secret_env": "secret_access_key_env"},
    "twilio": {"service_url": "base_url", "user": "account_sid", "secret_env": "auth_token_env"},
    "http_sms": {"service_url": "url", "user": "basic_username", "secret_env": "secret_env"},
    "webpush": {"secret_env": "vapid_private_key_env"},
    "print_api": {"service_url": "base_url", "secret_env": "api_key_env"},
    "print_batch": {"service_url": "sftp_url", "user": "username",
                    "secret_env": "client_key_env"},
}


def _with_top_level(config: ProviderSpec, settings: dict[str, Any]) -> dict[str, Any]:
    """``service_url``, ``user`` and ``secret_env`` as the type's own settings."""
    merged = dict(settings)
    mapping = _TOP_LEVEL[config.type]
    for field_name in ("service_url", "user", "secret_env"):
        value = getattr(config, field_name, None)
        if not value:
            continue
        if field_name not in mapping:
            raise errors.ProviderConfigError(
                f"provider {config.name}: {field_name} has no meaning for type {config.type}")
        merged.setdefault(mapping[field_name], value)
    sftp_url = merged.pop("sftp_url", None)
    if sftp_url is not None:
        _fold_sftp_url(config.name, str(sftp_url), merged)
    return merged


def _fold_sftp_url(name: str, url: str, merged: dict[str, Any]) -> None:
    parts = urlsplit(url)
    if parts.scheme != "sftp" or not parts.hostname:
        raise errors.ProviderConfigError(f"provider {name}: service_url must be "
                                         "sftp://host[:port][/folder]")
    merged.setdefault("host", parts.hostname)
    if parts.port:
        merged.setdefault("port", parts.port)
    if parts.username:
        merged.setdefault("username", parts.username)
    if parts.path not in ("", "/"):
        merged.setdefault("remote_dir", parts.path)


def make(config: ProviderSpec, *, env: Mapping[str, str] | None = None,
         clock: Clock | None = None) -> Provider:
    """The provider ``config`` describes; ``ProviderConfigError`` for unusable settings."""
    entry = _ENTRIES.get(config.type)
    if entry is None:
        raise errors.ProviderConfigError(
            f"provider {config.name}: no vendor provider of type {config.type!r}; "
            f"known: {sorted(TYPES)}")
    settings = dict(config.settings)
    unknown = sorted(set(settings) - entry.keys - BUILDER_KEYS[entry.kind])
    if unknown:
        raise errors.ProviderConfigError(
            f"provider {config.name}: unknown settings {unknown} for type {config.type}")
    settings = _with_top_level(config, settings)
    context = _Context(config, settings, os.environ if env is None else env, clock)
    try:
        return entry.factory(context)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, errors.ProviderError):
            raise
        raise errors.ProviderConfigError(f"provider {config.name}: {exc}") from exc
