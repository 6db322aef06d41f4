"""A generic HTTP SMS provider: any vendor whose send call the operator can describe.

The request is a :class:`RequestShape`: method, URL, query, headers and a JSON
or form body whose string values are ``string.Template`` text over these
placeholders::

    $to          the recipient, E.164 ("+4915112345678")
    $to_digits   the same without "+" (vendors that want "4915112345678")
    $from        the sender (number or alphanumeric id)
    $body        the message text
    $message_id  our Message-ID (an idempotency key where the vendor takes one)
    $key         the outbox row id
    $segments    segments the body takes; $encoding  "GSM-7" or "UCS-2"
    $secret      the API key or token (from the ``*_env`` variable named in the settings)

Only whole values are substituted (never keys), so a body can never change
the request's shape. The answer is read with JSON pointers: ``id_pointer``
gives the vendor's message id, ``status_pointer`` (optional) a field that must
hold one of ``accepted_values`` for the message to count as sent (vendors that
say 200 and put the refusal in the body), ``error_pointer`` the vendor's error
code for the reason. HTTP statuses read as in
:mod:`tidings.providers.http_outcome`; a refusal in the body is ``Failed``
with the vendor's value as ``code``.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx
import orjson
from pydantic import SecretStr

from tidings.domain.outcomes import Deferred, Failed, Outcome, Sent
from tidings.providers import errors, http_outcome, sms_text
from tidings.providers.base import Envelope
from tidings.rules import pointer

__all__ = ["PLACEHOLDERS", "HttpSmsProvider", "RequestShape"]

Method = Literal["POST", "PUT", "GET"]
Encoding = Literal["json", "form"]
PLACEHOLDERS = frozenset({"to", "to_digits", "from", "body", "message_id", "key", "segments",
                          "encoding", "secret"})
DEFAULT_TIMEOUT_SECONDS = 10.0
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RequestShape:
    """How one SMS becomes one HTTP request, and how the answer is read."""

    url: str
    method: Method = "POST"
    encoding: Encoding = "json"
    body: Mapping[str, Any] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    basic_username: str | None = None
    """When set, HTTP basic auth with this user and ``$secret`` as password."""
    id_pointer: str | None = None
    status_pointer: str | None = None
    accepted_values: frozenset[str] = frozenset()
    error_pointer: str | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> RequestShape:
        """A shape from a provider's ``settings`` table (keys as the field names)."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(settings) - known)
        if unknown:
            raise errors.ProviderConfigError(f"http_sms: unknown settings {unknown}")
        values = dict(settings)
        if "accepted_values" in values:
            values["accepted_values"] = frozenset(str(v) for v in values["accepted_values"])
        shape = cls(**values)
        shape.check()
        return shape

    def check(self) -> None:
        """Refuse unknown placeholders, methods and pointers when the provider is made."""
        if self.method not in ("POST", "PUT", "GET"):
            raise errors.ProviderConfigError(f"http_sms: method {self.method!r} not supported")
        if self.encoding not in ("json", "form"):
            raise errors.ProviderConfigError("http_sms: encoding must be json or form")
        if self.method == "GET" and self.body:
            raise errors.ProviderConfigError("http_sms: a GET request has no body; use query")
        if not self.url.startswith(("https://", "http://")):
            raise errors.ProviderConfigError("http_sms: url must be http(s)")
        for ptr in (self.id_pointer, self.status_pointer, self.error_pointer):
            if ptr is not None and not pointer.is_pointer(ptr):
                raise errors.ProviderConfigError(f"http_sms: {ptr!r} is not a JSON pointer")
        if self.status_pointer and not self.accepted_values:
            raise errors.ProviderConfigError("http_sms: status_pointer needs accepted_values")
        for text in _strings([self.body, self.query, self.headers, self.url]):
            _check_template(text)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def _check_template(text: str) -> None:
    template = string.Template(text)
    if not template.is_valid():
        raise errors.ProviderConfigError(f"http_sms: bad template {text!r} (write $$ for $)")
    unknown = set(template.get_identifiers()) - PLACEHOLDERS
    if unknown:
        raise errors.ProviderConfigError(
            f"http_sms: unknown placeholders {sorted(unknown)} in {text!r}; "
            f"known: {sorted(PLACEHOLDERS)}")


def _fill(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return string.Template(value).substitute(values)
    if isinstance(value, Mapping):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_fill(v, values) for v in value]
    return value


class HttpSmsProvider:
    """Sends SMS envelopes (recipients = [E.164], data = UTF-8 body) as shaped requests."""

    max_batch: int = 100
    max_recipients: int = 1
    max_message_bytes: int = 6400

    def __init__(
        self,
        name: str,
        shape: RequestShape,
        *,
        secret: SecretStr | None = None,
        sender: str | None = None,
        max_segments: int | None = sms_text.DEFAULT_MAX_SEGMENTS,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_batch: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        shape.check()
        uses_secret = any("$secret" in s or "${secret}" in s
                          for s in _strings([shape.body, shape.query, shape.headers, shape.url]))
        if (uses_secret or shape.basic_username) and secret is None:
            raise errors.ProviderConfigError("http_sms: the shape uses $secret but none is set")
        self.name = name
        self.max_batch = max_batch or type(self).max_batch
        self._shape = shape
        self._secret = secret
        self._sender = sender
        self._sms = sms_text.SmsText(max_segments)
        auth = (shape.basic_username, secret.get_secret_value()) \
            if shape.basic_username and secret else None
        self._client = httpx.Client(auth=auth, transport=transport,
                                    timeout=httpx.Timeout(timeout_seconds))

    def __repr__(self) -> str:
        return f"HttpSmsProvider(name={self.name!r}, url={self._shape.url!r})"

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        return [self._send_one(envelope) for envelope in envelopes]

    def close(self) -> None:
        self._client.close()

    def _send_one(self, envelope: Envelope) -> Outcome:
        try:
            request = self._request(envelope)
        except ValueError as exc:
            return Failed(str(exc), code="invalid")
        try:
            response = self._client.send(request)
        except httpx.TransportError as exc:
            return http_outcome.from_transport_error(exc)
        except Exception as exc:  # a bug must not lose the batch's other outcomes
            log.exception("http_sms %s: unexpected error, outbox row %s deferred",
                          self.name, envelope.key)
            return Deferred(f"internal error: {type(exc).__name__}")
        return self._read(response)

    def _request(self, envelope: Envelope) -> httpx.Request:
        if len(envelope.recipients) != 1 or not _E164.fullmatch(envelope.recipients[0]):
            raise ValueError("an SMS goes to exactly one E.164 number")
        body = envelope.data.decode("utf-8")
        info = self._sms.analyse(body)  # SmsTooLong is a ValueError
        to = envelope.recipients[0]
        values = {"to": to, "to_digits": to[1:], "from": self._sender or envelope.sender,
                  "body": body, "message_id": envelope.message_id, "key": str(envelope.key),
                  "segments": str(info.segments), "encoding": info.encoding,
                  "secret": self._secret.get_secret_value() if self._secret else ""}
        shape = self._shape
        kwargs: dict[str, Any] = {"params": _fill(dict(shape.query), values) or None,
                                  "headers": _fill(dict(shape.headers), values)}
        if shape.method != "GET":
            filled = _fill(dict(shape.body), values)
            kwargs["content" if shape.encoding == "json" else "data"] = (
                orjson.dumps(filled) if shape.encoding == "json" else filled)
            if shape.encoding == "json":
                kwargs["headers"].setdefault("Content-Type", "application/json")
        url = _fill(shape.url, {k: quote(v, safe="") for k, v in values.items()})
        return self._client.build_request(shape.method, url, **kwargs)

    def _read(self, response: httpx.Response) -> Outcome:
        document = _json(response.content)
        status = response.status_code
        if not 200 <= status < 300:
            vendor = pointer.resolve(document, self._shape.error_pointer) \
                if self._shape.error_pointer else None
            detail = f"vendor code {vendor}" if vendor is not None else response.reason_phrase
            return http_outcome.from_status(
                status, detail, retry_after=http_outcome.retry_after_seconds(response.headers))
        shape = self._shape
        if shape.status_pointer:
            value = str(pointer.resolve(document, shape.status_pointer, ""))
            if value not in shape.accepted_values:
                return Failed(f"HTTP {status} but status {value!r} is not accepted",
                              code=value or str(status))
        found = pointer.resolve(document, shape.id_pointer) if shape.id_pointer else None
        provider_id = str(found) if found is not None else None
        return Sent(response=f"HTTP {status}", provider_id=provider_id, code=str(status))


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None
