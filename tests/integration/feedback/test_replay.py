"""Best status wins: the same feedback replayed three times, shuffled, gives the same result."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tidings.domain.states import State
from tidings.feedback.notices import Kind, MessageRef, Notice
from tidings.outbox.messages import NewMessage
from tidings.runtime.core import Runtime
from tidings.storage import tables
from tidings.storage.tables_feedback import message_feedback, suppressions

RECIPIENTS = ["a@example.com", "b@example.com", "c@example.com", "d@example.com",
              "soft@example.com", "soft@example.com", "soft@example.com", "e@example.com",
              "f@example.com", "g@example.com"]
# (message index, kind, source): every kind, sources that disagree, several per message
FEEDBACK = [
    (0, Kind.DELIVERED, "ses"), (0, Kind.HARD_BOUNCE, "smtp-return"),
    (1, Kind.DELIVERED, "ses"), (1, Kind.COMPLAINED, "ses"), (1, Kind.DELAYED, "ses"),
    (2, Kind.HARD_BOUNCE, "ses"), (2, Kind.COMPLAINED, "ses"), (2, Kind.DELIVERED, "ses"),
    (3, Kind.SOFT_BOUNCE, "smtp-return"), (3, Kind.DELIVERED, "ses"),
    (4, Kind.SOFT_BOUNCE, "ses"), (5, Kind.SOFT_BOUNCE, "ses"), (6, Kind.SOFT_BOUNCE, "ses"),
    (6, Kind.DELAYED, "ses"),
    (7, Kind.UNSUBSCRIBED, "unsubscribe"), (7, Kind.DELIVERED, "ses"),
    (8, Kind.REJECTED, "ses"), (8, Kind.DELIVERED, "ses"),
    (9, Kind.UNSUBSCRIBED, "unsubscribe"), (9, Kind.HARD_BOUNCE, "ses"),
    (9, Kind.UNKNOWN, "smtp-return"),
]


def messages(runtime: Runtime, tenant: str) -> list[int]:
    now = runtime.clock.now()
    new = [NewMessage(dedupe_key=f"{tenant}-{i}", channel="email", provider="capture",
                      recipient=r, to=[r], sender="orders@acme.example", subject="s",
                      body_text="t", message_id_header=f"<{tenant}-{i}@acme.example>", due_at=now)
           for i, r in enumerate(RECIPIENTS)]
    with runtime.engine.begin() as conn:
        ids = [i for i in runtime.outbox.insert(conn, tenant, None, new, now) if i is not None]
        conn.execute(tables.messages.update().where(tables.messages.c.id.in_(ids))
                     .values(state=State.SENT.value, sent_at=now))
    return ids


def notices(ids: list[int], runtime: Runtime, keyed: bool, tenant: str) -> list[Notice]:
    """The feedback; ``keyed``: each notice carries its source's id (duplicates are dropped)."""
    at = runtime.clock.now()
    return [Notice(kind, at + timedelta(seconds=n), source, MessageRef(ids[index]),
                   reason=kind.value, key=f"{tenant}-{n}" if keyed else None)
            for n, (index, kind, source) in enumerate(FEEDBACK)]


def final(runtime: Runtime, tenant: str, ids: list[int]) -> dict[str, Any]:
    m, f, s = tables.messages, message_feedback, suppressions
    with runtime.engine.connect() as conn:
        rows = dict(conn.execute(select(m.c.id, m.c.state).where(m.c.tenant == tenant)).all())
        best = dict(conn.execute(select(f.c.message_id, f.c.status)
                                 .where(f.c.message_id.in_(ids))).all())
        listed = sorted(conn.execute(select(s.c.address, s.c.reason)
                                     .where(s.c.tenant == tenant)).all())
    return {"states": [rows[i] for i in ids], "best": [best.get(i) for i in ids],
            "suppressed": listed}


def test_replayed_three_times_in_shuffled_order(runtime: Runtime) -> None:
    once_ids = messages(runtime, "once")
    for notice in notices(once_ids, runtime, True, "once"):
        runtime.feedback.store.apply(notice, runtime.clock.now())
    expected = final(runtime, "once", once_ids)
    assert expected == {
        "states": ["bounced", "delivered", "bounced", "delivered", "sent", "sent", "sent",
                   "delivered", "bounced", "bounced"],
        "best": ["hard_bounce", "complained", "complained", "delivered", "soft_bounce",
                 "soft_bounce", "soft_bounce", "delivered", "rejected", "hard_bounce"],
        "suppressed": [("a@example.com", "hard_bounce"), ("b@example.com", "complained"),
                       ("c@example.com", "complained"), ("e@example.com", "unsubscribed"),
                       ("g@example.com", "hard_bounce"), ("soft@example.com", "soft_bounce")]}
    rng = random.Random(20260105)
    for trial, keyed in enumerate((True, False, False)):
        tenant = f"replay-{trial}"
        ids = messages(runtime, tenant)
        replayed = notices(ids, runtime, keyed, tenant) * 3
        rng.shuffle(replayed)
        for notice in replayed:
            runtime.feedback.store.apply(notice, runtime.clock.now())
        assert final(runtime, tenant, ids) == expected, (trial, keyed)


def test_duplicates_are_recorded_once(runtime: Runtime) -> None:
    ids = messages(runtime, "dupes")
    outcomes = [runtime.feedback.store.apply(n, runtime.clock.now()).outcome
                for n in notices(ids, runtime, True, "dupes") * 3]
    assert outcomes.count("applied") == len(FEEDBACK)
    assert outcomes.count("duplicate") == 2 * len(FEEDBACK)
    e = tables.message_events
    with runtime.engine.connect() as conn:
        timeline = conn.execute(select(e.c.id).where(e.c.kind == "feedback")).all()
    assert len(timeline) == len(FEEDBACK)
