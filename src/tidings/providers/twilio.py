"""Twilio Programmable Messaging: SMS over its REST API, and its signed status callbacks.

Sending: one ``POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`` per
envelope, form-encoded ``To``, ``From`` (or ``MessagingServiceSid``), ``Body``
and ``StatusCallback``, HTTP basic auth ``AccountSid:AuthToken``, on one kept-
alive httpx client per provider instance. Twilio answers ``201`` with the
message resource (``sid``, ``status``) or an error document
``{"code": 21211, "message": ..., "more_info": ..., "status": 400}``.

How answers become outcomes (Twilio's error code first, then the HTTP status
through :mod:`tidings.providers.http_outcome`)::

    answer                                      outcome                     code
    ------------------------------------------  --------------------------  --------
    201 {"sid": "SM...", "status": "queued"}    Sent(provider_id=sid)       "201"
    21211 invalid To, 21614 not a mobile,       Bounced(hard)               "21211"...
    21612 not reachable by SMS, 21610 the
    recipient replied STOP
    21408 region not enabled, 21606 From not    Deferred(failover=True)     "21408"...
    an SMS-capable number of the account,
    21603 From missing
    400 other (21602 empty body, 21617 body     Failed                      "400"
    over 1600 characters, ...)
    401 (20003), 403                            Deferred(failover=True)     "401"
    429 (20429)                                 Deferred(Retry-After)       "429"
    5xx, timeout, connection refused            Deferred(failover=True)     "503"...
    more than one recipient, not E.164, body    Failed, no request made     "invalid"
    over the segment limit

``code`` is Twilio's own error code where this table reads it differently from
the HTTP status alone, so an operator's status row for "400" does not turn a
bounce into a failure; otherwise it is the HTTP status.

Status callbacks: Twilio POSTs ``MessageSid``, ``MessageStatus`` and
``ErrorCode`` to the ``StatusCallback`` URL and signs the request with
``X-Twilio-Signature`` = base64(HMAC-SHA1(auth token, URL + each POST
parameter name and value, sorted by name)). :func:`signature_valid` checks it;
:data:`CALLBACK_STATUSES` is the one table mapping a callback status to a
message state (the feedback stage owns precedence between sources).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
from pydantic import SecretStr

from tidings.domain.outcomes import Bounced, Deferred, Failed, Outcome
from tidings.domain.states import State
from tidings.providers import errors, http_outcome, sms_text
from tidings.providers.base import Envelope

__all__ = [
    "API_BASE",
    "CALLBACK_STATUSES",
    "CallbackReading",
    "TwilioProvider",
    "classify",
    "read_callback",
    "signature",
    "signature_valid",
]

API_BASE = "https://api.twilio.com"
MESSAGES_PATH = "/2010-04-01/Accounts/{sid}/Messages.json"
MAX_BODY_CHARS = 1600  # Twilio refuses longer bodies with 21617
DEFAULT_TIMEOUT_SECONDS = 10.0
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")

# Twilio error codes read differently from their HTTP status (all come with 400).
RECIPIENT_GONE = {
    21211: "invalid To number",
    21612: "To number not reachable by SMS",
    21614: "To number is not a mobile number",
    21610: "recipient unsubscribed (replied STOP)",
}
PROVIDER_SETUP = {
    21408: "sending to this region is not enabled",
    21606: "From number is not an SMS-capable number of this account",
    21603: "From number missing",
    21659: "From number is not a Twilio number",
}

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CallbackReading:
    """What one callback status means: the state to move to (``None``: note it only)."""

    state: State | None
    reason: str


# Delivery errors that mean the handset or number is gone for good; others are soft.
HARD_DELIVERY_ERRORS = frozenset({"30003", "30005", "30006"})

CALLBACK_STATUSES: dict[str, CallbackReading] = {
    "accepted": CallbackReading(None, "accepted by the messaging service"),
    "scheduled": CallbackReading(None, "scheduled"),
    "queued": CallbackReading(None, "queued at Twilio"),
    "sending": CallbackReading(None, "sending to the carrier"),
    "sent": CallbackReading(None, "handed to the carrier"),
    "delivered": CallbackReading(State.DELIVERED, "delivered to the handset"),
    "read": CallbackReading(State.DELIVERED, "read"),
    "undelivered": CallbackReading(State.BOUNCED, "undelivered"),
    "failed": CallbackReading(State.BOUNCED, "failed"),
    "canceled": CallbackReading(None, "canceled"),
}


def read_callback(status: str, error_code: str | None) -> CallbackReading | None:
    """The reading of a callback (``None`` for a status Twilio may add later)."""
    reading = CALLBACK_STATUSES.get(status.lower())
    if reading is None or reading.state is not State.BOUNCED:
        return reading
    hard = (error_code or "") in HARD_DELIVERY_ERRORS
    kind = "hard" if hard else "soft"
    suffix = f" (error {error_code})" if error_code else ""
    return CallbackReading(State.BOUNCED, f"{kind} bounce: {reading.reason}{suffix}")


def signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    """Twilio's ``X-Twilio-Signature`` of a POST to ``url`` with form ``params``."""
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_valid(url: str, params: Iterable[tuple[str, str]], auth_token: str,
                    given: str) -> bool:
    """True when ``given`` signs this request, with or without the URL's default port."""
    pairs = list(params)
    return any(hmac.compare_digest(signature(candidate, pairs, auth_token), given)
               for candidate in _url_variants(url))


def _url_variants(url: str) -> list[str]:
    """Twilio signs the URL as configured: try it with and without an explicit default port."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    variants = [url]
    if default is not None and parts.port in (None, default):
        netloc = host if parts.port else f"{host}:{default}"
        variants.append(urlunsplit(parts._replace(netloc=netloc)))
    return variants


def classify(status: int, body: bytes, retry_after: float | None = None) -> Outcome:
    """The outcome of one answer to a Messages create request (see the module table)."""
    document = _json(body)
    if 200 <= status < 300:
        sid = str(document.get("sid") or "") or None
        state = document.get("status", "")
        return http_outcome.from_status(status, str(state), provider_id=sid)
    code = document.get("code")
    detail = f"{code}: {document.get('message', '')}" if code else body[:200].decode(
        "utf-8", "replace")
    if isinstance(code, int) and code in RECIPIENT_GONE:
        return Bounced(f"twilio {code}: {RECIPIENT_GONE[code]}", hard=True, code=str(code))
    if isinstance(code, int) and code in PROVIDER_SETUP:
        return Deferred(f"twilio {code}: {PROVIDER_SETUP[code]}", failover=True, code=str(code))
    return http_outcome.from_status(status, f"twilio {detail}", retry_after=retry_after)


def _json(body: bytes) -> dict[str, object]:
    try:
        value = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


class TwilioProvider:
    """Sends SMS envelopes (recipients = [E.164], data = UTF-8 body) through Twilio.

    Not thread-safe beyond httpx's own guarantees: one instance per worker.
    The auth token is a ``SecretStr`` and appears in no repr, log or outcome.
    """

    max_batch: int = 100
    max_recipients: int = 1
    max_message_bytes: int = MAX_BODY_CHARS * 4

    def __init__(
        self,
        name: str,
        account_sid: str,
        auth_token: SecretStr,
        *,
        sender: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
        base_url: str = API_BASE,
        max_segments: int | None = sms_text.DEFAULT_MAX_SEGMENTS,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_batch: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not _ACCOUNT_SID.fullmatch(account_sid):
            raise errors.ProviderConfigError("twilio account_sid must be AC + 32 hex digits")
        if not auth_token.get_secret_value():
            raise errors.ProviderConfigError("twilio auth token is empty")
        self.name = name
        self.max_batch = max_batch or type(self).max_batch
        self._sender = sender
        self._service = messaging_service_sid
        self._callback = status_callback
        self._sms = sms_text.SmsText(max_segments)
        self._url = base_url.rstrip("/") + MESSAGES_PATH.format(sid=account_sid)
        self._client = httpx.Client(
            auth=(account_sid, auth_token.get_secret_value()), transport=transport,
            timeout=httpx.Timeout(timeout_seconds), headers={"Accept": "application/json"})

    def __repr__(self) -> str:
        return f"TwilioProvider(name={self.name!r}, url={self._url!r})"

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        """One request per envelope; one outcome per envelope, in order, never raising."""
        return [self._send_one(envelope) for envelope in envelopes]

    def close(self) -> None:
        self._client.close()

    def _send_one(self, envelope: Envelope) -> Outcome:
        try:
            form = self._form(envelope)
        except ValueError as exc:
            return Failed(str(exc), code="invalid")
        try:
            response = self._client.post(self._url, data=form)
        except httpx.TransportError as exc:
            return http_outcome.from_transport_error(exc)
        except Exception as exc:  # a bug must not lose the batch's other outcomes
            log.exception("twilio %s: unexpected error, outbox row %s deferred",
                          self.name, envelope.key)
            return Deferred(f"internal error: {type(exc).__name__}")
        retry_after = http_outcome.retry_after_seconds(response.headers)
        return classify(response.status_code, response.content, retry_after)

    def _form(self, envelope: Envelope) -> dict[str, str]:
        """The request form; ``ValueError`` for an envelope Twilio would refuse."""
        if len(envelope.recipients) != 1 or not _E164.fullmatch(envelope.recipients[0]):
            raise ValueError("an SMS goes to exactly one E.164 number")
        body = envelope.data.decode("utf-8")
        if len(body) > MAX_BODY_CHARS:
            raise ValueError(f"SMS body is {len(body)} characters, Twilio takes {MAX_BODY_CHARS}")
        self._sms.analyse(body)  # SmsTooLong is a ValueError
        form = {"To": envelope.recipients[0], "Body": body}
        if self._service:
            form["MessagingServiceSid"] = self._service
        else:
            sender = self._sender or envelope.sender
            if not sender:
                raise ValueError("no From number or messaging service")
            form["From"] = sender
        if self._callback:
            form["StatusCallback"] = self._callback
        return form
