"""The registry: provider type -> vendor provider, from settings and environment secrets."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import asyncssh
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tidings.providers import errors, registry
from tidings.providers.http_sms import HttpSmsProvider
from tidings.providers.print_api import PrintApiProvider
from tidings.providers.print_batch import PrintBatchProvider
from tidings.providers.ses import SesProvider
from tidings.providers.twilio import TwilioProvider
from tidings.providers.webpush import WebPushProvider

ACCOUNT = "AC" + "a" * 32
VAPID_RAW = base64.urlsafe_b64encode(
    ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value.to_bytes(32, "big")
).rstrip(b"=").decode()
SSH_KEY = asyncssh.generate_private_key("ssh-ed25519")
ENV = {"TWILIO_TOKEN": "tw-secret-1", "SMS_KEY": "sms-secret-2", "VAPID_KEY": VAPID_RAW,
       "LOB_KEY": "lob-secret-3", "SFTP_KEY": SSH_KEY.export_private_key().decode(),
       "AWS_SECRET": "aws-secret-4"}
RETURN = {"name": "Shop Inc.", "line1": "1 Market St", "city": "San Francisco",
          "postal_code": "94105", "region": "CA", "country": "US"}


@dataclass(frozen=True)
class Spec:
    type: str
    settings: dict[str, Any] = field(default_factory=dict)
    name: str = "p1"
    bulk_size: int = 25
    from_address: str | None = None


CASES: dict[str, tuple[Spec, type]] = {
    "ses": (Spec("ses", {"region": "eu-west-1", "configuration_set": "tx", "tags": {"a": "b"},
                         "access_key_id": "AKID", "secret_access_key_env": "AWS_SECRET"}),
            SesProvider),
    "twilio": (Spec("twilio", {"account_sid": ACCOUNT, "auth_token_env": "TWILIO_TOKEN",
                               "default_region": "DE"}, from_address="+15005550006"),
               TwilioProvider),
    "http_sms": (Spec("http_sms", {"url": "https://sms.example/send",
                                   "body": {"to": "$to", "text": "$body"},
                                   "headers": {"X-Key": "$secret"}, "secret_env": "SMS_KEY",
                                   "id_pointer": "/id"}), HttpSmsProvider),
    "webpush": (Spec("webpush", {"vapid_private_key_env": "VAPID_KEY", "ttl_seconds": 60},
                     from_address="ops@shop.example"), WebPushProvider),
    "print_api": (Spec("print_api", {"api_key_env": "LOB_KEY", "return_address": RETURN,
                                     "page_size": "Letter"}), PrintApiProvider),
    "print_batch": (Spec("print_batch", {"host": "sftp.print.example", "username": "shop",
                                         "client_key_env": "SFTP_KEY",
                                         "host_key": SSH_KEY.export_public_key().decode()}),
                    PrintBatchProvider),
}


@pytest.mark.parametrize("name", list(CASES))
def test_make_each_type(name: str) -> None:
    spec, kind = CASES[name]
    provider = registry.make(spec, env=ENV)
    try:
        assert isinstance(provider, kind)
        assert provider.name == "p1" and provider.max_batch == 25
        assert not any(secret in repr(provider) for secret in ENV.values())
    finally:
        provider.close()


def test_every_type_has_a_channel_kind() -> None:
    assert set(registry.CHANNEL_KIND) == registry.TYPES == set(CASES)
    assert registry.CHANNEL_KIND["twilio"] == "sms" and registry.CHANNEL_KIND["ses"] == "email"


@pytest.mark.parametrize(("spec", "message"), [
    (Spec("fax"), "no vendor provider of type 'fax'"),
    (Spec("twilio", {**CASES["twilio"][0].settings, "colour": "red"}), "unknown settings"),
    (Spec("twilio", {"account_sid": ACCOUNT}), "auth_token_env"),
    (Spec("twilio", {"account_sid": ACCOUNT, "auth_token_env": "MISSING"}),
     "MISSING is not set"),
    (Spec("twilio", {"account_sid": "AC1", "auth_token_env": "TWILIO_TOKEN"}), "account_sid"),
    (Spec("ses", {}), "settings.region is required"),
    (Spec("ses", {"region": "x", "tags": {"bad tag": "v"}}), "SES tag"),
    (Spec("webpush", {"vapid_private_key_env": "VAPID_KEY"}), "subject"),
    (Spec("webpush", {"vapid_private_key_env": "LOB_KEY", "subject": "mailto:a@b"}), "VAPID"),
    (Spec("http_sms", {"url": "https://x", "body": {"t": "$password"}}), "placeholders"),
    (Spec("http_sms", {"url": "https://x", "headers": {"K": "$secret"}}), "secret"),
    (Spec("print_api", {"api_key_env": "LOB_KEY", "return_address": {**RETURN, "region": "ZZ"}}),
     "return address"),
    (Spec("print_batch", {"host": "h", "username": "u", "client_key_env": "LOB_KEY",
                          "host_key": "x"}), "SSH key"),
])
def test_unusable_settings_are_refused(spec: Spec, message: str) -> None:
    with pytest.raises(errors.ProviderConfigError, match=message) as caught:
        registry.make(spec, env=ENV)
    assert not any(secret in str(caught.value) for secret in ENV.values())


@dataclass(frozen=True)
class OperatorSpec(Spec):
    """A provider with the operator's top-level fields (``ProviderConfig``)."""

    service_url: str | None = None
    user: str | None = None
    secret_env: str | None = None


def test_top_level_fields_fill_the_types_settings() -> None:
    twilio = registry.make(OperatorSpec("twilio", service_url="http://127.0.0.1:9",
                                        user=ACCOUNT, secret_env="TWILIO_TOKEN"), env=ENV)
    assert isinstance(twilio, TwilioProvider)
    assert repr(twilio) == (f"TwilioProvider(name='p1', url='http://127.0.0.1:9/2010-04-01/"
                            f"Accounts/{ACCOUNT}/Messages.json')")
    batch = registry.make(OperatorSpec(
        "print_batch", {"host_key": SSH_KEY.export_public_key().decode()},
        service_url="sftp://print.example:2222/inbox/tidings", user="shop",
        secret_env="SFTP_KEY"), env=ENV)
    assert repr(batch) == ("PrintBatchProvider(name='p1', host='print.example', port=2222, "
                           "username='shop', dir='/inbox/tidings')")


def test_settings_win_over_top_level_fields() -> None:
    spec = OperatorSpec("http_sms", {"url": "https://own.example/send"},
                        service_url="https://other.example/")
    assert "own.example" in repr(registry.make(spec, env=ENV))


@pytest.mark.parametrize(("spec", "message"), [
    (OperatorSpec("webpush", {"subject": "mailto:a@b.example"}, service_url="https://x",
                  secret_env="VAPID_KEY"), "service_url has no meaning"),
    (OperatorSpec("print_batch", {"host_key": "k"}, service_url="ftp://x/",
                  secret_env="SFTP_KEY"), "sftp://"),
])
def test_top_level_fields_refused(spec: OperatorSpec, message: str) -> None:
    with pytest.raises(errors.ProviderConfigError, match=message):
        registry.make(spec, env=ENV)
