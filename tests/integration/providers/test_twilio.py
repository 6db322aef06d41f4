"""TwilioProvider against a local Twilio Messages API (tests/fakes/twilio.py).

The table runs each (Twilio answer -> expected outcome) row over a real HTTP
request; the other tests check the request itself, the checks made before any
request, and answers that never come (timeout, connection refused).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from tests.fakes.server import LocalServer, Scripted
from tests.fakes.twilio import FakeTwilio
from tidings.domain.outcomes import Bounced, Deferred, Failed, Sent
from tidings.providers.base import Envelope
from tidings.providers.twilio import TwilioProvider

ACCOUNT = "AC" + "0123456789abcdef" * 2
TOKEN = "twilio-auth-token-never-logged"
FROM = "+15005550006"
TO = "+4915112345678"
CALLBACK = "https://hub.example/v1/callbacks/twilio/twilio-test"


def twilio_error(status: int, code: int, message: str = "refused",
                 headers: dict[str, str] | None = None) -> Scripted:
    return Scripted(status, {"code": code, "message": message, "status": status,
                             "more_info": f"https://www.twilio.com/docs/errors/{code}"},
                    headers or {})


@dataclass(frozen=True)
class Row:
    answer: Scripted | None
    kind: type
    code: str
    failover: bool | None = None
    hard: bool | None = None
    retry_after: float | None = None


TABLE: dict[str, Row] = {
    "201 queued": Row(None, Sent, "201"),
    "21211 invalid To": Row(twilio_error(400, 21211), Bounced, "21211", hard=True),
    "21614 not a mobile": Row(twilio_error(400, 21614), Bounced, "21614", hard=True),
    "21612 not reachable": Row(twilio_error(400, 21612), Bounced, "21612", hard=True),
    "21610 replied STOP": Row(twilio_error(400, 21610), Bounced, "21610", hard=True),
    "21408 region disabled": Row(twilio_error(400, 21408), Deferred, "21408", failover=True),
    "21606 From not ours": Row(twilio_error(400, 21606), Deferred, "21606", failover=True),
    "21602 body missing": Row(twilio_error(400, 21602), Failed, "400"),
    "21617 body too long": Row(twilio_error(400, 21617), Failed, "400"),
    "400 without a body": Row(Scripted(400, ""), Failed, "400"),
    "403 forbidden": Row(twilio_error(403, 20403), Deferred, "403", failover=True),
    "404 wrong account": Row(twilio_error(404, 20404), Failed, "404"),
    "429 with Retry-After": Row(twilio_error(429, 20429, "Too Many Requests",
                                             {"Retry-After": "7"}),
                                Deferred, "429", failover=False, retry_after=7.0),
    "429 without Retry-After": Row(twilio_error(429, 20429), Deferred, "429", failover=False),
    "500 internal": Row(twilio_error(500, 20500), Deferred, "500", failover=True),
    "503 empty": Row(Scripted(503, ""), Deferred, "503", failover=True),
    "502 html page": Row(Scripted(502, "<html>Bad gateway</html>",
                                  {"Content-Type": "text/html"}), Deferred, "502",
                         failover=True),
}


@pytest.fixture
def fake() -> FakeTwilio:
    return FakeTwilio(ACCOUNT, TOKEN)


@pytest.fixture
def server(fake: FakeTwilio) -> Iterator[LocalServer]:
    with LocalServer(fake) as server:
        yield server


def provider(base_url: str, token: str = TOKEN, timeout: float = 2.0) -> TwilioProvider:
    return TwilioProvider("twilio-test", ACCOUNT, SecretStr(token), sender=FROM,
                          status_callback=CALLBACK, base_url=base_url, timeout_seconds=timeout)


def sms(key: int = 1, body: str = "Order SO-1 has shipped.", to: str = TO) -> Envelope:
    return Envelope(message_id=f"<m{key}@shop.example>", sender="", recipients=[to],
                    data=body.encode(), key=key)


@pytest.mark.parametrize("name", list(TABLE))
def test_answer_table(name: str, fake: FakeTwilio, server: LocalServer) -> None:
    row = TABLE[name]
    if row.answer is not None:
        fake.script.push(row.answer)
    twilio = provider(server.url)
    try:
        [outcome] = twilio.send_batch([sms()])
    finally:
        twilio.close()
    assert type(outcome) is row.kind, outcome
    assert outcome.code == row.code
    if row.failover is not None:
        assert isinstance(outcome, Deferred) and outcome.failover is row.failover
    if row.hard is not None:
        assert isinstance(outcome, Bounced) and outcome.hard is row.hard
    if row.retry_after is not None:
        assert isinstance(outcome, Deferred) and outcome.retry_after_seconds == row.retry_after
    assert fake.requests == 1


def test_request_is_twilios_form_with_basic_auth(fake: FakeTwilio, server: LocalServer) -> None:
    twilio = provider(server.url)
    outcomes = twilio.send_batch([sms(1), sms(2, body="Grüße, Ihr Paket ist da 📦")])
    twilio.close()
    assert [type(o) for o in outcomes] == [Sent, Sent]
    assert [o.provider_id for o in outcomes] == [m.sid for m in fake.messages]
    first, second = fake.messages
    assert first.form == {"To": TO, "From": FROM, "Body": "Order SO-1 has shipped.",
                          "StatusCallback": CALLBACK}
    assert second.form["Body"] == "Grüße, Ihr Paket ist da 📦"
    assert first.sid.startswith("SM") and len(first.sid) == 34


def test_wrong_token_is_a_provider_fault(fake: FakeTwilio, server: LocalServer) -> None:
    [outcome] = provider(server.url, token="wrong").send_batch([sms()])
    assert isinstance(outcome, Deferred) and outcome.failover and outcome.code == "401"
    assert TOKEN not in outcome.reason and "wrong" not in outcome.reason
    assert fake.messages == []


@pytest.mark.parametrize(("envelope", "reason"), [
    (sms(to="0301234567"), "E.164"),
    (Envelope("<m@x>", FROM, [TO, "+4915112345679"], b"two numbers", 1), "exactly one"),
    (sms(body="x" * 1601), "1600"),
    (sms(body="€" * 900), "segments"),
    (Envelope("<m@x>", FROM, [TO], b"\xff\xfe not utf-8", 1), "utf-8"),
])
def test_refused_before_any_request(envelope: Envelope, reason: str, fake: FakeTwilio,
                                    server: LocalServer) -> None:
    [outcome] = provider(server.url).send_batch([envelope])
    assert isinstance(outcome, Failed) and outcome.code == "invalid"
    assert reason in outcome.reason
    assert fake.requests == 0


def test_timeout_defers_with_failover(fake: FakeTwilio, server: LocalServer) -> None:
    fake.script.push(Scripted(201, {"sid": "SMlate"}, delay_seconds=1.5))
    [outcome] = provider(server.url, timeout=0.3).send_batch([sms()])
    assert isinstance(outcome, Deferred) and outcome.failover and outcome.code == "timeout"
    assert "unknown" in outcome.reason


def test_connection_refused_defers_every_message() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    outcomes = provider(f"http://127.0.0.1:{port}").send_batch([sms(1), sms(2)])
    assert all(isinstance(o, Deferred) and o.failover and o.code == "connect" for o in outcomes)


def test_batch_keeps_order_and_mixes_outcomes(fake: FakeTwilio, server: LocalServer) -> None:
    fake.script.push(Scripted(201, {"sid": "SMaaaa", "status": "queued"}),
                     twilio_error(400, 21211),
                     twilio_error(429, 20429, headers={"Retry-After": "3"}))
    outcomes = provider(server.url).send_batch([sms(1), sms(2), sms(3), sms(4, to="12")])
    assert [type(o) for o in outcomes] == [Sent, Bounced, Deferred, Failed]
    assert outcomes[0].provider_id == "SMaaaa"
    assert fake.requests == 3
