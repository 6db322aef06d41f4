"""The shared HTTP reading: (status or transport error -> outcome) and Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tidings.domain.outcomes import Deferred, Failed, Sent
from tidings.providers import http_outcome

STATUS_TABLE = [
    (200, Sent, False), (201, Sent, False), (202, Sent, False), (204, Sent, False),
    (400, Failed, False), (404, Failed, False), (405, Failed, False), (413, Failed, False),
    (415, Failed, False), (422, Failed, False),
    (401, Deferred, True), (403, Deferred, True), (408, Deferred, True),
    (429, Deferred, False),
    (500, Deferred, True), (502, Deferred, True), (503, Deferred, True), (504, Deferred, True),
    (301, Deferred, True), (100, Deferred, True),
]


@pytest.mark.parametrize(("status", "kind", "failover"), STATUS_TABLE)
def test_status_table(status: int, kind: type, failover: bool) -> None:
    outcome = http_outcome.from_status(status, "detail", retry_after=9.0, provider_id="id-1")
    assert type(outcome) is kind
    assert outcome.code == str(status)
    if isinstance(outcome, Deferred):
        assert outcome.failover is failover
        assert outcome.retry_after_seconds == (9.0 if status == 429 else None)
    if isinstance(outcome, Sent):
        assert outcome.provider_id == "id-1"


def test_reason_is_bounded() -> None:
    outcome = http_outcome.from_status(400, "x" * 5000)
    assert isinstance(outcome, Failed)
    assert len(outcome.reason) == http_outcome.MAX_REASON_CHARS


@pytest.mark.parametrize(("error", "code"), [
    (httpx.ConnectTimeout("t"), "timeout"), (httpx.ReadTimeout("t"), "timeout"),
    (httpx.WriteTimeout("t"), "timeout"), (httpx.PoolTimeout("t"), "timeout"),
    (httpx.ConnectError("refused"), "connect"), (httpx.RemoteProtocolError("eof"), "connect"),
])
def test_transport_errors_defer_with_failover(error: httpx.TransportError, code: str) -> None:
    outcome = http_outcome.from_transport_error(error)
    assert outcome.failover and outcome.code == code


NOW = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("headers", "now", "seconds"), [
    ({}, None, None),
    ({"Retry-After": "120"}, None, 120.0),
    ({"retry-after": " 0 "}, None, 0.0),
    ({"Retry-After": "999999"}, None, http_outcome.MAX_RETRY_AFTER_SECONDS),
    ({"Retry-After": "Mon, 05 Jan 2026 09:01:30 GMT",
      "Date": "Mon, 05 Jan 2026 09:00:00 GMT"}, None, 90.0),
    ({"Retry-After": "Mon, 05 Jan 2026 09:00:45 GMT"}, NOW, 45.0),
    ({"Retry-After": "Mon, 05 Jan 2026 08:00:00 GMT"}, NOW, 0.0),
    ({"Retry-After": "Mon, 05 Jan 2026 09:00:45 GMT"}, None, None),
    ({"Retry-After": "soon"}, NOW, None),
    ({"Retry-After": "-5"}, NOW, None),
])
def test_retry_after(headers: dict[str, str], now: datetime | None,
                     seconds: float | None) -> None:
    assert http_outcome.retry_after_seconds(headers, now) == seconds
    assert http_outcome.retry_after_seconds(httpx.Headers(headers), now) == seconds
