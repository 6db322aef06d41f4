"""HTTP answers of vendor APIs as outcomes: the reading shared by the HTTP providers.

Each HTTP provider (Twilio, the generic SMS endpoint, Web Push, the print API)
first asks its own vendor-specific table, then falls back to this one::

    status / transport error          outcome                               code
    --------------------------------  ------------------------------------  -----------
    2xx                               Sent (the vendor module adds its id)  "202", ...
    429                               Deferred(retry_after_seconds=hint)    "429"
    408                               Deferred(failover=True)               "408"
    401, 403                          Deferred(failover=True)               "401"/"403"
    5xx                               Deferred(failover=True)               "503", ...
    413                               Failed (the request is too large)     "413"
    other 4xx                         Failed (the request is malformed)     "400", ...
    1xx, 3xx                          Deferred(failover=True), unexpected   "302", ...
    timeout (connect, read, write)    Deferred(failover=True), unknown      "timeout"
    connection refused, reset, TLS    Deferred(failover=True)               "connect"

A 401/403 is about this provider's credentials, not the message, so another
provider of the channel may succeed. A read timeout leaves the result unknown:
it is never terminal, and the retry carries the same idempotency key.

``Retry-After`` is read as seconds or as an HTTP date; a date is measured
against the response's own ``Date`` header when there is one (the vendor's
clock), else against the ``now`` the caller passes in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from tidings.domain.outcomes import Deferred, Failed, Outcome, Sent

__all__ = [
    "MAX_REASON_CHARS",
    "MAX_RETRY_AFTER_SECONDS",
    "from_status",
    "from_transport_error",
    "retry_after_seconds",
]

MAX_REASON_CHARS = 500
MAX_RETRY_AFTER_SECONDS = 86_400.0  # a hint beyond a day is clamped: backoff takes over later
HTTP_TOO_MANY_REQUESTS = 429
HTTP_REQUEST_TIMEOUT = 408
HTTP_PAYLOAD_TOO_LARGE = 413
AUTH_STATUSES = frozenset({401, 403})


def from_status(status: int, detail: str, *, retry_after: float | None = None,
                provider_id: str | None = None) -> Outcome:
    """The default outcome of an HTTP ``status`` (see the module table)."""
    code = str(status)
    text = f"HTTP {status}: {detail}".strip().rstrip(":")[:MAX_REASON_CHARS]
    if 200 <= status < 300:
        return Sent(response=text, provider_id=provider_id, code=code)
    if status == HTTP_TOO_MANY_REQUESTS:
        return Deferred(text, retry_after_seconds=retry_after, code=code)
    if status in AUTH_STATUSES or status == HTTP_REQUEST_TIMEOUT or status >= 500:
        return Deferred(text, failover=True, code=code)
    if 400 <= status < 500:
        return Failed(text, code=code)
    return Deferred(f"unexpected {text}", failover=True, code=code)


def from_transport_error(exc: httpx.TransportError) -> Deferred:
    """A request that got no HTTP answer: the result is unknown, try elsewhere."""
    if isinstance(exc, httpx.TimeoutException):
        return Deferred(f"timeout: {type(exc).__name__}, result unknown", failover=True,
                        code="timeout")
    return Deferred(f"connect: {type(exc).__name__}: {exc}"[:MAX_REASON_CHARS], failover=True,
                    code="connect")


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait according to ``Retry-After``, or ``None`` when absent or unreadable."""
    value = _header(headers, "retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    at = _http_date(value)
    if at is None:
        return None
    reference = _http_date(_header(headers, "date") or "") or now
    if reference is None:
        return None
    return min(max((at - reference).total_seconds(), 0.0), MAX_RETRY_AFTER_SECONDS)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    if isinstance(headers, httpx.Headers):
        value: str | None = headers.get(name)
        return value
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
