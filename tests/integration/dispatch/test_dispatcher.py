"""The dispatcher with an injected clock: windows, bulk steps, backoff, expiry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

import pytest

from tidings.clock import FakeClock
from tidings.dispatch.dispatcher import Dispatcher
from tidings.dispatch.policy import Policy
from tidings.domain.outcomes import Bounced, Deferred, Outcome, Sent
from tidings.outbox.messages import NewMessage
from tidings.providers.base import Envelope
from tidings.storage import engine as engines
from tidings.storage.outbox_sql import SqlOutbox


class Scripted:
    """A provider that answers from a script and remembers every call."""

    max_batch = 1000
    max_recipients = 100
    max_message_bytes = 10_000_000

    def __init__(self, answers: list[Outcome] | None = None) -> None:
        self.name = "p"
        self.answers = answers or []
        self.calls: list[list[Envelope]] = []

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        self.calls.append(list(envelopes))
        return [self.answers.pop(0) if self.answers else Sent("250 ok") for _ in envelopes]

    def close(self) -> None:
        pass


def message(n: int, clock: FakeClock, **kw: object) -> NewMessage:
    values: dict[str, object] = dict(
        dedupe_key=f"e{n}", channel="email", provider="p", recipient=f"r{n}@example.com",
        to=[f"r{n}@example.com"], sender="Shop <shop@example.com>", subject=f"s{n}",
        body_text="t", body_html="<p>t</p>", message_id_header=f"<m{n}@example.com>",
        due_at=clock.now(), expires_at=clock.now() + timedelta(days=3))
    values.update(kw)
    return NewMessage(**values)  # type: ignore[arg-type]


@pytest.fixture
def outbox(db_url: str) -> SqlOutbox:
    return SqlOutbox(engines.create(db_url))


def setup(outbox: SqlOutbox, clock: FakeClock, messages: list[NewMessage], policy: Policy,
          provider: Scripted) -> Dispatcher:
    with outbox.engine.begin() as conn:
        outbox.insert(conn, "acme", None, messages, clock.now())
    return Dispatcher(outbox, {"p": policy}, lambda name: provider, clock, "w")


def test_window_holds_until_it_opens_then_bulk_steps(outbox: SqlOutbox) -> None:
    clock = FakeClock(datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
    provider = Scripted()
    policy = Policy(bulk_size=4, window_start=time(8), window_end=time(18))
    dispatcher = setup(outbox, clock, [message(i, clock) for i in range(10)], policy, provider)
    assert dispatcher.step() == 0 and provider.calls == []
    clock.set(datetime(2026, 3, 2, 7, 59, 59, tzinfo=UTC))
    assert dispatcher.step() == 0
    clock.set(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    steps = [dispatcher.step() for _ in range(4)]
    assert steps == [4, 4, 2, 0]
    assert [len(call) for call in provider.calls] == [4, 4, 2]
    assert outbox.counts("acme") == {"sent": 10}


def test_deferred_backs_off_then_fails_after_max_attempts(outbox: SqlOutbox,
                                                          clock: FakeClock) -> None:
    provider = Scripted([Deferred("451 later")] * 3)
    policy = Policy(retry_max_attempts=3, retry_interval=timedelta(minutes=1))
    dispatcher = setup(outbox, clock, [message(1, clock)], policy, provider)
    assert dispatcher.step() == 1
    assert dispatcher.step() == 0                   # not due yet
    clock.advance(timedelta(seconds=59))
    assert dispatcher.step() == 0
    clock.advance(timedelta(seconds=1))
    assert dispatcher.step() == 1                   # 1 min after the first try
    clock.advance(timedelta(minutes=2))
    assert dispatcher.step() == 1                   # 2 min after the second
    (row,) = outbox.list("acme")
    assert row["state"] == "failed" and "retries exhausted after 3" in row["last_error"]
    # one Message-ID across every try
    assert {env.message_id for call in provider.calls for env in call} == {"<m1@example.com>"}


def test_bounce_is_terminal(outbox: SqlOutbox, clock: FakeClock) -> None:
    provider = Scripted([Bounced("550 5.1.1 no such user")])
    dispatcher = setup(outbox, clock, [message(1, clock)], Policy(), provider)
    dispatcher.step()
    clock.advance(timedelta(days=1))
    assert dispatcher.step() == 0
    assert outbox.counts("acme") == {"bounced": 1}


def test_start_date_and_expiry(outbox: SqlOutbox, clock: FakeClock) -> None:
    start = clock.now() + timedelta(hours=5)
    provider = Scripted([Deferred("421 busy")])
    dispatcher = setup(outbox, clock, [
        message(1, clock, due_at=start),
        message(2, clock, expires_at=clock.now() + timedelta(minutes=30)),
    ], Policy(retry_interval=timedelta(hours=1)), provider)
    assert dispatcher.step() == 1                    # only message 2 is due; it defers
    clock.advance(timedelta(minutes=31))
    assert outbox.sweep(clock.now())["expired"] == 1
    clock.set(start)
    assert dispatcher.step() == 1
    assert outbox.counts("acme") == {"expired": 1, "sent": 1}


def test_provider_exception_defers_never_terminal(outbox: SqlOutbox, clock: FakeClock) -> None:
    class Broken(Scripted):
        def send_batch(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
            raise ConnectionResetError("peer went away")

    dispatcher = setup(outbox, clock, [message(1, clock)], Policy(), Broken())
    dispatcher.step()
    assert outbox.counts("acme") == {"deferred": 1}


def test_header_injection_at_build_fails_without_provider_call(outbox: SqlOutbox,
                                                              clock: FakeClock) -> None:
    provider = Scripted()
    dispatcher = setup(outbox, clock, [message(1, clock, subject="hi\r\nBcc: x@evil.test")],
                       Policy(), provider)
    dispatcher.step()
    (row,) = outbox.list("acme")
    assert row["state"] == "failed" and provider.calls == []


def test_provider_id_is_kept_for_feedback(outbox: SqlOutbox, clock: FakeClock) -> None:
    provider = Scripted([Sent("202 accepted", provider_id="SM0123456789")])
    dispatcher = setup(outbox, clock, [message(1, clock)], Policy(), provider)
    dispatcher.step()
    (row,) = outbox.list("acme")
    assert outbox.get("acme", row["id"])["provider_message_id"] == "SM0123456789"
