"""The outbox on SQLite and PostgreSQL: claims, leases, decisions, sweeps, operators."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from tidings.clock import FakeClock
from tidings.domain.states import State
from tidings.outbox.messages import Decision, NewMessage
from tidings.storage import engine as engines
from tidings.storage.outbox_sql import IllegalTransition, MessageNotFound, SqlOutbox


def new(n: int, clock: FakeClock, **kw: object) -> NewMessage:
    values: dict[str, object] = dict(
        dedupe_key=f"evt-{n}|rule|email|a{n}@example.com", channel="email", provider="p",
        recipient=f"a{n}@example.com", to=[f"a{n}@example.com"], sender="s@example.com",
        subject=f"subject {n}", body_text="hello", message_id_header=f"<{n}@example.com>",
        due_at=clock.now())
    values.update(kw)
    return NewMessage(**values)  # type: ignore[arg-type]


@pytest.fixture
def outbox(db_url: str) -> SqlOutbox:
    return SqlOutbox(engines.create(db_url))


def put(outbox: SqlOutbox, clock: FakeClock, messages: list[NewMessage]) -> list[int | None]:
    with outbox.engine.begin() as conn:
        return outbox.insert(conn, "acme", None, messages, clock.now())


def test_duplicate_dedupe_key_makes_no_second_row(outbox: SqlOutbox, clock: FakeClock) -> None:
    first = put(outbox, clock, [new(1, clock)])
    again = put(outbox, clock, [new(1, clock)])
    assert first[0] is not None and again == [None]
    assert outbox.counts("acme") == {"queued": 1}


def test_claim_respects_due_time_limit_and_provider(outbox: SqlOutbox, clock: FakeClock) -> None:
    put(outbox, clock, [new(i, clock) for i in range(5)]
        + [new(9, clock, due_at=clock.now() + timedelta(hours=1))]
        + [new(8, clock, provider="other")])
    batch = outbox.claim("p", "w1", 3, clock.now())
    assert [m.attempts for m in batch] == [1, 1, 1]
    assert len(outbox.claim("p", "w2", 10, clock.now())) == 2      # the future one waits
    clock.advance(timedelta(hours=1))
    assert [m.subject for m in outbox.claim("p", "w2", 10, clock.now())] == ["subject 9"]


def test_record_writes_only_under_own_lease(outbox: SqlOutbox, clock: FakeClock) -> None:
    put(outbox, clock, [new(1, clock)])
    (claimed,) = outbox.claim("p", "w1", 10, clock.now(), lease_seconds=30)
    clock.advance(31)
    assert outbox.sweep(clock.now())["recovered"] == 1
    (again,) = outbox.claim("p", "w2", 10, clock.now())
    assert again.attempts == 2
    # w1 comes back late: its answer must not overwrite w2's lease
    assert outbox.record("w1", [(claimed, Decision(State.SENT, "accepted"))], clock.now()) == 0
    assert outbox.record("w2", [(again, Decision(State.SENT, "accepted", "250"))], clock.now()) == 1
    message = outbox.get("acme", again.id)
    assert message["state"] == "sent" and message["provider_response"] == "250"
    transitions = [(e["from_state"], e["to_state"]) for e in message["timeline"]]
    assert transitions == [(None, "queued"), ("queued", "active"), ("active", "queued"),
                           ("queued", "active"), ("active", "sent")]


def test_deferred_comes_back_when_due(outbox: SqlOutbox, clock: FakeClock) -> None:
    put(outbox, clock, [new(1, clock)])
    (claimed,) = outbox.claim("p", "w", 10, clock.now())
    later = clock.now() + timedelta(minutes=5)
    outbox.record("w", [(claimed, Decision(State.DEFERRED, "deferred", "451", later))], clock.now())
    assert outbox.claim("p", "w", 10, clock.now()) == []
    clock.set(later)
    (back,) = outbox.claim("p", "w", 10, clock.now())
    assert back.attempts == 2
    assert outbox.get("acme", back.id)["timeline"][-1]["from_state"] == "deferred"


def test_expiry(outbox: SqlOutbox, clock: FakeClock) -> None:
    put(outbox, clock, [new(1, clock, expires_at=clock.now() + timedelta(hours=2)),
                        new(2, clock, expires_at=clock.now() + timedelta(days=2))])
    clock.advance(timedelta(hours=3))
    assert outbox.sweep(clock.now()) == {"expired": 1, "recovered": 0}
    assert outbox.counts("acme") == {"expired": 1, "queued": 1}


def test_operator_moves(outbox: SqlOutbox, clock: FakeClock) -> None:
    (mid,) = put(outbox, clock, [new(1, clock)])
    assert mid is not None
    assert outbox.move("acme", mid, State.HELD, clock.now(), "op", "hold") is State.HELD
    assert outbox.claim("p", "w", 10, clock.now()) == []
    with pytest.raises(IllegalTransition):
        outbox.move("acme", mid, State.SENT, clock.now(), "op", "nope")
    outbox.move("acme", mid, State.QUEUED, clock.now(), "op", "release")
    assert len(outbox.claim("p", "w", 10, clock.now())) == 1
    with pytest.raises(MessageNotFound):
        outbox.move("other-tenant", mid, State.CANCELLED, clock.now(), "op", "cancel")


def test_concurrent_claims_take_disjoint_rows(outbox: SqlOutbox, clock: FakeClock) -> None:
    put(outbox, clock, [new(i, clock) for i in range(200)])
    taken: list[list[int]] = []
    lock = threading.Lock()

    def claim(worker: str) -> None:
        while batch := outbox.claim("p", worker, 7, clock.now()):
            with lock:
                taken.append([m.id for m in batch])

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i for batch in taken for i in batch]
    assert len(ids) == 200 and len(set(ids)) == 200


def test_record_writes_every_field_of_a_mixed_batch(outbox: SqlOutbox, clock: FakeClock) -> None:
    put(outbox, clock, [new(i, clock) for i in range(3)])
    first = outbox.claim("p", "w1", 10, clock.now())
    later = clock.now() + timedelta(minutes=5)
    sent, deferred, failed = first
    assert outbox.record("w1", [
        (sent, Decision(State.SENT, "accepted", "250 ok", provider_id="prov-1")),
        (deferred, Decision(State.DEFERRED, "busy", "451 try later", due_at=later)),
        (failed, Decision(State.FAILED, "refused", "550 no such user")),
    ], clock.now()) == 3
    got = {m.id: outbox.get("acme", m.id) for m in first}
    assert got[sent.id]["state"] == "sent" and got[sent.id]["sent_at"] is not None
    assert got[sent.id]["provider_message_id"] == "prov-1"
    assert got[sent.id]["last_error"] is None
    assert got[deferred.id]["state"] == "deferred" and got[deferred.id]["sent_at"] is None
    assert got[deferred.id]["due_at"].replace(tzinfo=later.tzinfo) == later
    assert got[deferred.id]["last_error"] == "busy: 451 try later"
    assert got[failed.id]["state"] == "failed"
    assert got[failed.id]["provider_response"] == "550 no such user"
    assert all(g["leased_by"] is None and g["lease_until"] is None for g in got.values())
    # a later try without a provider id keeps the one learnt before
    clock.advance(timedelta(minutes=5))
    (again,) = outbox.claim("p", "w2", 10, clock.now())
    assert again.id == deferred.id and again.attempts == 2
    outbox.record("w2", [(again, Decision(State.SENT, "accepted", "250"))], clock.now())
    assert outbox.get("acme", deferred.id)["provider_message_id"] is None
    assert outbox.get("acme", sent.id)["provider_message_id"] == "prov-1"
