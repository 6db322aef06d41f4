"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291).

For each :class:`~tidings.channels_build.envelopes.PushEnvelope` the notification
JSON is encrypted for the browser's subscription keys (pywebpush's
``WebPusher.encode``), a VAPID ``Authorization: vapid t=<JWT>,k=<public key>``
header is attached (py_vapid signs it; one token per push-service origin is
reused until an hour before its 12-hour expiry), and the result is POSTed to
the subscription's endpoint with ``TTL``, ``Urgency`` and ``Topic`` on one
kept-alive httpx client.

How push-service answers become outcomes::

    answer                        outcome                                code
    ----------------------------  -------------------------------------  -----
    201 Created (+ Location)      Sent(provider_id=Location)             "201"
    404 Not Found, 410 Gone       Bounced(hard): the subscription is     "404"/"410"
                                  gone; drop it
    429 Too Many Requests         Deferred(retry_after_seconds=hint)     "429"
    413 Payload Too Large         Failed                                 "413"
    400 (bad headers or body)     Failed                                 "400"
    401, 403 (VAPID key refused)  Deferred(failover=True): a provider    "401"/"403"
                                  with the subscription's key may pass
    5xx, timeout, refused         Deferred(failover=True)                "503"...
    not a push envelope, payload  Failed, no request made                "invalid"
    too big, broken keys

The VAPID token's ``exp`` is the one place the provider reads the clock it is
given; it never sleeps or schedules anything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02, VapidException
from pydantic import SecretStr
from pywebpush import WebPusher, WebPushException

from tidings.channels_build.envelopes import PushEnvelope
from tidings.clock import Clock, SystemClock
from tidings.domain.outcomes import Bounced, Deferred, Failed, Outcome
from tidings.providers import errors, http_outcome
from tidings.providers.base import Envelope

__all__ = ["MAX_PAYLOAD_BYTES", "WebPushProvider", "classify", "load_vapid_key"]

MAX_PAYLOAD_BYTES = 3993  # RFC 8291 section 4: 4096 on the wire less header, tag, delimiter
CONTENT_ENCODING = "aes128gcm"
TOKEN_LIFETIME = timedelta(hours=12)
TOKEN_RENEW_BEFORE = timedelta(hours=1)
DEFAULT_TIMEOUT_SECONDS = 10.0
SUBSCRIPTION_GONE = frozenset({404, 410})

log = logging.getLogger(__name__)


def classify(status: int, location: str | None, retry_after: float | None = None) -> Outcome:
    """The outcome of one push-service answer (see the module table)."""
    if status in SUBSCRIPTION_GONE:
        return Bounced(f"HTTP {status}: push subscription expired or unsubscribed", hard=True,
                       code=str(status))
    return http_outcome.from_status(status, "push service", retry_after=retry_after,
                                    provider_id=location)


def load_vapid_key(key: SecretStr) -> Vapid02:
    """A VAPID signer from a PEM private key, or base64url raw (32 bytes) or DER."""
    text = key.get_secret_value().strip()
    try:
        if text.startswith("-----BEGIN"):
            private = serialization.load_pem_private_key(text.encode(), password=None)
            if not isinstance(private, ec.EllipticCurvePrivateKey):
                raise errors.ProviderConfigError("VAPID key must be an EC P-256 key")
            return Vapid02(private)
        return Vapid02.from_string(text)
    except (ValueError, TypeError, VapidException) as exc:
        raise errors.ProviderConfigError(f"VAPID private key unreadable: {type(exc).__name__}") \
            from exc


@dataclass(frozen=True, slots=True)
class _Token:
    header: str
    renew_at_timestamp: float


class WebPushProvider:
    """Sends push envelopes to their subscriptions' push services."""

    max_batch: int = 500
    max_recipients: int = 1
    max_message_bytes: int = MAX_PAYLOAD_BYTES

    def __init__(
        self,
        name: str,
        vapid_private_key: SecretStr,
        subject: str,
        *,
        clock: Clock | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_batch: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not subject.startswith(("mailto:", "https://")):
            raise errors.ProviderConfigError("VAPID subject must be a mailto: or https: URL")
        self.name = name
        self.max_batch = max_batch or type(self).max_batch
        self._vapid = load_vapid_key(vapid_private_key)
        self._subject = subject
        self._clock = clock or SystemClock()
        self._tokens: dict[str, _Token] = {}
        self._client = httpx.Client(transport=transport, timeout=httpx.Timeout(timeout_seconds))

    def __repr__(self) -> str:
        return f"WebPushProvider(name={self.name!r}, subject={self._subject!r})"

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        return [self._send_one(envelope) for envelope in envelopes]

    def close(self) -> None:
        self._client.close()

    def _send_one(self, envelope: Envelope) -> Outcome:
        if not isinstance(envelope, PushEnvelope):
            return Failed("not a push envelope (no subscription)", code="invalid")
        if len(envelope.data) > MAX_PAYLOAD_BYTES:
            return Failed(f"notification is {len(envelope.data)} bytes, "
                          f"a push message holds {MAX_PAYLOAD_BYTES}", code="invalid")
        try:
            body = WebPusher(envelope.subscription.as_info()).encode(
                envelope.data, CONTENT_ENCODING)["body"]
        except (WebPushException, ValueError, TypeError) as exc:
            return Failed(f"cannot encrypt for this subscription: {exc}"[:300], code="invalid")
        try:
            response = self._client.post(envelope.subscription.endpoint, content=body,
                                         headers=self._headers(envelope))
        except httpx.TransportError as exc:
            return http_outcome.from_transport_error(exc)
        except Exception as exc:  # a bug must not lose the batch's other outcomes
            log.exception("webpush %s: unexpected error, outbox row %s deferred",
                          self.name, envelope.key)
            return Deferred(f"internal error: {type(exc).__name__}")
        return classify(response.status_code, response.headers.get("location"),
                        http_outcome.retry_after_seconds(response.headers, self._clock.now()))

    def _headers(self, envelope: PushEnvelope) -> dict[str, str]:
        headers = {"Content-Encoding": CONTENT_ENCODING,
                   "Content-Type": "application/octet-stream",
                   "TTL": str(envelope.ttl_seconds), "Urgency": envelope.urgency,
                   "Authorization": self._authorization(envelope.subscription.endpoint)}
        if envelope.topic:
            headers["Topic"] = envelope.topic
        return headers

    def _authorization(self, endpoint: str) -> str:
        """The VAPID header for the endpoint's origin, signed again near its expiry."""
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = self._clock.now()
        token = self._tokens.get(audience)
        if token is None or now.timestamp() >= token.renew_at_timestamp:
            expires = now + TOKEN_LIFETIME
            signed = self._vapid.sign({"aud": audience, "sub": self._subject,
                                       "exp": int(expires.timestamp())})
            token = _Token(signed["Authorization"],
                           (expires - TOKEN_RENEW_BEFORE).timestamp())
            self._tokens[audience] = token
        return token.header
