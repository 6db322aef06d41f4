"""WebPushProvider against a local push service (tests/fakes/webpush.py).

The service checks the VAPID JWT and decrypts what it receives, so a passing
test proves the notification arrives readable for the subscription's keys.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr

from tests.fakes.server import LocalServer, Scripted
from tests.fakes.webpush import FakePushService, public_point
from tidings.channels_build import push
from tidings.channels_build.envelopes import PushEnvelope
from tidings.clock import FakeClock
from tidings.domain.outcomes import Bounced, Deferred, Failed, Sent
from tidings.outbox.messages import Claimed
from tidings.providers.base import Envelope
from tidings.providers.webpush import WebPushProvider

SUBJECT = "mailto:ops@shop.example"
OPTIONS = push.PushOptions(allow_insecure_endpoints=True)
VAPID_KEY = ec.generate_private_key(ec.SECP256R1())
VAPID_PEM = VAPID_KEY.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()


@pytest.fixture
def service() -> FakePushService:
    return FakePushService()


@pytest.fixture
def server(service: FakePushService) -> Iterator[LocalServer]:
    with LocalServer(service) as server:
        yield server


def provider(clock: FakeClock | None = None, timeout: float = 2.0) -> WebPushProvider:
    return WebPushProvider("push-test", SecretStr(VAPID_PEM), SUBJECT, clock=clock,
                           timeout_seconds=timeout)


def claimed(key: int = 1, subject: str = "Your order shipped",
            body: str = "Order SO-1 left our warehouse.") -> Claimed:
    return Claimed(id=key, tenant="acme", provider="push-test", sender="shop@example.com",
                   to=[], cc=[], bcc=[], subject=subject, body_text=body, body_html=None,
                   headers=[], message_id_header=f"<m{key}@shop.example>", attempts=1,
                   created_at=datetime(2026, 1, 5, 9, tzinfo=UTC), expires_at=None)


def envelope(subscription: dict[str, Any], key: int = 1, **payload: Any) -> PushEnvelope:
    return push.build_push(claimed(key), {"subscription": subscription, **payload}, OPTIONS)


def test_notification_arrives_decryptable_with_vapid(service: FakePushService,
                                                     server: LocalServer) -> None:
    subscription = service.subscribe(server.url, public_point(VAPID_KEY))
    env = envelope(subscription, url="https://shop.example/orders/SO-1", topic="order-SO-1",
                   urgency="high", ttl_seconds=3600)
    [outcome] = provider().send_batch([env])
    assert isinstance(outcome, Sent) and outcome.code == "201"
    assert outcome.provider_id and outcome.provider_id.startswith("/message/")
    [delivered] = service.delivered
    assert orjson.loads(delivered.plaintext) == {
        "title": "Your order shipped", "body": "Order SO-1 left our warehouse.",
        "message_id": "<m1@shop.example>", "url": "https://shop.example/orders/SO-1"}
    assert delivered.headers["Ttl"] == "3600" and delivered.headers["Urgency"] == "high"
    assert delivered.headers["Topic"] == "order-SO-1"
    assert delivered.claims["aud"] == server.url and delivered.claims["sub"] == SUBJECT


def test_one_vapid_token_per_origin_renewed_before_expiry(service: FakePushService,
                                                          server: LocalServer) -> None:
    clock = FakeClock(datetime.now(UTC))
    pusher = provider(clock)
    subs = [service.subscribe(server.url) for _ in range(2)]
    pusher.send_batch([envelope(subs[0], 1), envelope(subs[1], 2)])
    clock.advance(timedelta(hours=11, minutes=30))  # within the hour before the 12 h expiry
    pusher.send_batch([envelope(subs[0], 3)])
    tokens = [d.headers["Authorization"] for d in service.delivered]
    assert tokens[0] == tokens[1] != tokens[2]


def test_expired_vapid_token_is_refused_as_a_provider_fault(service: FakePushService,
                                                            server: LocalServer) -> None:
    stale = FakeClock(datetime.now(UTC) - timedelta(days=2))
    [outcome] = provider(stale).send_batch([envelope(service.subscribe(server.url))])
    assert isinstance(outcome, Deferred) and outcome.failover and outcome.code == "401"
    assert service.delivered == []


def test_other_application_server_key_is_403(service: FakePushService,
                                             server: LocalServer) -> None:
    other = public_point(ec.generate_private_key(ec.SECP256R1()))
    [outcome] = provider().send_batch([envelope(service.subscribe(server.url, other))])
    assert isinstance(outcome, Deferred) and outcome.failover and outcome.code == "403"


def test_unsubscribed_and_unknown_subscriptions_bounce_hard(service: FakePushService,
                                                            server: LocalServer) -> None:
    gone = service.subscribe(server.url)
    service.unsubscribe(gone)
    unknown = {**service.subscribe(server.url), "endpoint": f"{server.url}/push/nobody"}
    outcomes = provider().send_batch([envelope(gone, 1), envelope(unknown, 2)])
    assert [(type(o), o.code) for o in outcomes] == [(Bounced, "410"), (Bounced, "404")]
    assert all(isinstance(o, Bounced) and o.hard for o in outcomes)


@dataclass(frozen=True)
class Row:
    answer: Scripted
    kind: type
    code: str
    failover: bool = False
    retry_after: float | None = None


TABLE: dict[str, Row] = {
    "201 created": Row(Scripted(201, "", {"Location": "/m/1"}), Sent, "201"),
    "202 accepted": Row(Scripted(202, ""), Sent, "202"),
    "404 not found": Row(Scripted(404, ""), Bounced, "404"),
    "410 gone": Row(Scripted(410, ""), Bounced, "410"),
    "429 with Retry-After": Row(Scripted(429, "", {"Retry-After": "120"}), Deferred, "429",
                                retry_after=120.0),
    "413 too large": Row(Scripted(413, ""), Failed, "413"),
    "400 bad request": Row(Scripted(400, ""), Failed, "400"),
    "401 VAPID refused": Row(Scripted(401, ""), Deferred, "401", failover=True),
    "403 wrong key": Row(Scripted(403, ""), Deferred, "403", failover=True),
    "500": Row(Scripted(500, ""), Deferred, "500", failover=True),
    "503": Row(Scripted(503, "", {"Retry-After": "10"}), Deferred, "503", failover=True),
}


@pytest.mark.parametrize("name", list(TABLE))
def test_answer_table(name: str, service: FakePushService, server: LocalServer) -> None:
    row = TABLE[name]
    service.script.push(row.answer)
    [outcome] = provider().send_batch([envelope(service.subscribe(server.url))])
    assert type(outcome) is row.kind, outcome
    assert outcome.code == row.code
    if isinstance(outcome, Deferred):
        assert outcome.failover is row.failover
        assert outcome.retry_after_seconds == row.retry_after
    if isinstance(outcome, Bounced):
        assert outcome.hard
    assert service.requests == 1


def test_retry_after_as_an_http_date_counts_from_the_servers_date(
        service: FakePushService, server: LocalServer) -> None:
    at = formatdate(time.time() + 90, usegmt=True)  # the server stamps its own Date header
    service.script.push(Scripted(429, "", {"Retry-After": at}))
    [outcome] = provider().send_batch([envelope(service.subscribe(server.url))])
    assert isinstance(outcome, Deferred) and outcome.retry_after_seconds is not None
    assert 85 <= outcome.retry_after_seconds <= 91


def test_refused_before_any_request(service: FakePushService, server: LocalServer) -> None:
    good = envelope(service.subscribe(server.url))
    plain = Envelope("<m@x>", "", [good.subscription.endpoint], b"{}", 2)
    oversize = replace(good, data=b"x" * 4000)
    broken = replace(good, subscription=replace(good.subscription, p256dh="AAAA"))
    outcomes = provider().send_batch([plain, oversize, broken])
    assert all(isinstance(o, Failed) and o.code == "invalid" for o in outcomes), outcomes
    assert service.requests == 0


def test_timeout_defers(service: FakePushService, server: LocalServer) -> None:
    service.script.push(Scripted(201, "", delay_seconds=1.0))
    [outcome] = provider(timeout=0.2).send_batch([envelope(service.subscribe(server.url))])
    assert isinstance(outcome, Deferred) and outcome.failover and outcome.code == "timeout"
