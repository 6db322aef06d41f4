"""The outbox in SQL: inserts, claims under a lease, decisions, sweeps.

Claims take the rows of one provider that are due, oldest first:
PostgreSQL locks them with ``FOR UPDATE SKIP LOCKED`` so concurrent
dispatchers take disjoint rows without waiting; SQLite runs the same update
inside ``BEGIN IMMEDIATE``, where only one writer exists at a time. A claim
moves rows to ``active`` with ``leased_by`` and ``lease_until``; a lease that
runs out (the worker died) returns the row to ``queued`` in ``sweep``.

A decision is written only while the row is still leased to the worker that
decides (``WHERE state='active' AND leased_by=:worker``), so a worker that lost
its lease cannot overwrite the newer owner's result.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, and_, bindparam, func, or_, select, update

from tidings.dispatch.extras import MessageExtras
from tidings.domain.states import State, can_move
from tidings.outbox.messages import Claimed, Decision, NewMessage
from tidings.storage import tables
from tidings.storage.bulk import insert_rows, insert_with_ids
from tidings.storage.engine import is_sqlite, reading

__all__ = ["IllegalTransition", "MessageNotFound", "SqlOutbox", "TransitionRow"]

LEASE_SECONDS = 120
M = tables.messages
E = tables.message_events
_DUE_STATES = (State.QUEUED.value, State.DEFERRED.value)


class MessageNotFound(LookupError):
    """No message with that id for that tenant."""


class IllegalTransition(ValueError):
    def __init__(self, message_id: int, src: str, dst: str) -> None:
        super().__init__(f"message {message_id} cannot go from {src} to {dst}")
        self.src, self.dst = src, dst


@dataclass(frozen=True, slots=True)
class TransitionRow:
    message_id: int
    from_state: str | None
    to_state: str
    reason: str
    response: str | None = None
    actor: str | None = None


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class SqlOutbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.reader = reading(engine)
        self._sqlite = is_sqlite(engine)

    # -- writing new messages (inside the caller's transaction) --------------------------

    def insert(self, conn: Connection, tenant: str, event_id: int | None,
               new: Sequence[NewMessage], now: datetime) -> list[int | None]:
        """Insert one event's messages; see ``insert_many``."""
        return self.insert_many(conn, tenant, [(event_id, m) for m in new], now)

    def insert_many(self, conn: Connection, tenant: str,
                    items: Sequence[tuple[int | None, NewMessage]],
                    now: datetime) -> list[int | None]:
        """Insert messages in one statement; a dedupe key already present yields ``None``.

        Two writers racing on the same new dedupe key make the second transaction
        fail on the unique constraint (``IntegrityError``); callers retry, and the
        retry sees the first writer's row.
        """
        if not items:
            return []
        keys = [m.dedupe_key for _, m in items]
        present = set(conn.execute(select(M.c.dedupe_key).where(
            M.c.tenant == tenant, M.c.dedupe_key.in_(keys))).scalars())
        rows, fresh, seen = [], [], set(present)
        for event_id, message in items:
            if message.dedupe_key in seen:
                continue
            seen.add(message.dedupe_key)
            rows.append(_message_row(tenant, event_id, message, now))
            fresh.append(message)
        ids: dict[str, int] = {}
        if rows:
            inserted = insert_with_ids(conn, M, rows)
            ids = {m.dedupe_key: i for m, i in zip(fresh, inserted, strict=True)}
            self.write_events(conn, [TransitionRow(ids[m.dedupe_key], None, m.state.value,
                                                   "created") for m in fresh], now)
        return [ids.get(m.dedupe_key) if m.dedupe_key not in present else None
                for _, m in items]

    def write_events(self, conn: Connection, rows: Iterable[TransitionRow], now: datetime,
                     kind: str = "transition") -> None:
        values = [{"message_id": r.message_id, "at": now, "kind": kind, "from_state": r.from_state,
                   "to_state": r.to_state, "reason": r.reason, "response": r.response,
                   "actor": r.actor} for r in rows]
        insert_rows(conn, E, values)

    # -- the dispatcher's side ----------------------------------------------------------

    def claim(self, provider: str, worker: str, limit: int, now: datetime,
              lease_seconds: float = LEASE_SECONDS) -> list[Claimed]:
        due = (select(M.c.id, M.c.state)
               .where(M.c.provider == provider,      # one provider: its window and bulk size
                      M.c.state.in_(_DUE_STATES),    # waiting, not held, not leased
                      M.c.due_at <= now,             # start date, delay and backoff all land here
                      _own_window_open(now))         # the message's own daily window, if any
               .order_by(M.c.due_at)
               .limit(limit))
        lease_until = now + timedelta(seconds=lease_seconds)
        take = update(M).values(state=State.ACTIVE.value, leased_by=worker,
                                lease_until=lease_until, attempts=M.c.attempts + 1,
                                updated_at=now)
        if self._sqlite:
            return self._claim_sqlite(due, take, worker, now)
        # rows another dispatcher is claiming are skipped, not waited for
        with self.engine.begin() as conn:
            prior = {row[0]: row[1] for row in conn.execute(due.with_for_update(skip_locked=True))}
            if not prior:
                return []
            rows = conn.execute(take.where(M.c.id.in_(list(prior)))
                                .returning(*_CLAIM_COLUMNS)).all()
            self._claimed_events(conn, worker, prior, rows, now)
        return sorted((_claimed(r) for r in rows), key=lambda c: c.id)

    def _claim_sqlite(self, due: Any, take: Any, worker: str, now: datetime) -> list[Claimed]:
        """Claim with as little as possible done inside SQLite's single write lock.

        An idle poll looks in a read and never takes the lock. Inside it: the due ids
        come back as one JSON value, the update returns nothing, so each statement is
        one step of the sqlite3 module (each step gives up the GIL, and taking it back
        can wait behind the process's other threads while everyone waits for the
        lock). The leased rows are read after the commit: they are ours until the
        lease runs out, and what is read (addresses, bodies) does not change.
        """
        with self.reader.connect() as conn:
            if conn.execute(due.with_only_columns(M.c.id).limit(1)).first() is None:
                return []
        found = due.subquery()
        with self.engine.begin() as conn:
            pairs = orjson.loads(conn.execute(select(func.json_group_array(
                func.json_array(found.c.id, found.c.state)))).scalar_one())
            if not pairs:
                return []
            prior = {int(i): state for i, state in pairs}
            conn.execute(take.where(M.c.id.in_(list(prior))))
            self.write_events(conn, [TransitionRow(i, state, State.ACTIVE.value, "claimed",
                                                   actor=worker) for i, state in prior.items()],
                              now)
        with self.reader.connect() as conn:
            rows = conn.execute(select(*_CLAIM_COLUMNS).where(M.c.id.in_(list(prior)))).all()
        return sorted((_claimed(r) for r in rows), key=lambda c: c.id)

    def _claimed_events(self, conn: Connection, worker: str, prior: dict[int, str],
                        rows: Sequence[Any], now: datetime) -> None:
        self.write_events(conn, [TransitionRow(r.id, prior[r.id], State.ACTIVE.value,
                                               "claimed", actor=worker) for r in rows], now)

    def record(self, worker: str, decisions: Sequence[tuple[Claimed, Decision]],
               now: datetime) -> int:
        """Write each decision while the lease is still ours; returns rows written."""
        if not decisions:
            return 0
        params = [_decision_params(c, d, now) for c, d in decisions]
        with self.engine.begin() as conn:
            owned = self._still_ours(conn, worker, [c.id for c, _ in decisions])
            mine = [p for p in params if p["b_id"] in owned]
            if mine and self._sqlite:
                _record_sqlite(conn, worker, mine, now)
            elif mine:  # one executemany for the whole batch
                conn.execute(_record_statement(worker, now), mine)
            self.write_events(conn, [TransitionRow(c.id, State.ACTIVE.value, d.state.value,
                                                   d.reason, d.response or None, worker)
                                     for c, d in decisions if c.id in owned], now)
        return len(mine)

    def _still_ours(self, conn: Connection, worker: str, ids: list[int]) -> set[int]:
        """Ids still leased to ``worker``; PostgreSQL locks them until the commit, so a
        concurrent sweep cannot hand them to someone else between this check and the update
        (SQLite: the transaction is the only writer)."""
        mine = (M.c.id.in_(ids), M.c.state == State.ACTIVE.value, M.c.leased_by == worker)
        if self._sqlite:  # one JSON value: one step inside the write lock (see _claim_sqlite)
            return set(orjson.loads(conn.execute(
                select(func.json_group_array(M.c.id)).where(*mine)).scalar_one()))
        return set(conn.execute(select(M.c.id).where(*mine).with_for_update()).scalars())

    def sweep(self, now: datetime) -> dict[str, int]:
        """Expire what is too old; return rows whose lease ran out to ``queued``."""
        with self.engine.begin() as conn:
            expired = conn.execute(
                update(M).where(M.c.state.in_(_DUE_STATES), M.c.expires_at.is_not(None),
                                M.c.expires_at <= now)
                .values(state=State.EXPIRED.value, updated_at=now, last_error="expired")
                .returning(M.c.id, M.c.state)).all()
            self.write_events(conn, [TransitionRow(r.id, None, State.EXPIRED.value,
                                                   "end date passed") for r in expired], now)
            lost = conn.execute(
                update(M).where(M.c.state == State.ACTIVE.value, M.c.lease_until < now)
                .values(state=State.QUEUED.value, leased_by=None, lease_until=None,
                        due_at=now, updated_at=now)
                .returning(M.c.id)).all()
            self.write_events(conn, [TransitionRow(r.id, State.ACTIVE.value, State.QUEUED.value,
                                                   "lease expired: result unknown, will retry")
                                     for r in lost], now)
        return {"expired": len(expired), "recovered": len(lost)}

    def next_due(self, provider: str) -> datetime | None:
        with self.reader.connect() as conn:
            return conn.execute(select(func.min(M.c.due_at)).where(
                M.c.provider == provider, M.c.state.in_(_DUE_STATES))).scalar()

    # -- operators ----------------------------------------------------------------------

    def move(self, tenant: str, message_id: int, dst: State, now: datetime, actor: str,
             reason: str) -> State:
        with self.engine.begin() as conn:
            row = conn.execute(select(M.c.state).where(M.c.id == message_id,
                                                       M.c.tenant == tenant)).first()
            if row is None:
                raise MessageNotFound(message_id)
            src = State(row.state)
            if not can_move(src, dst):
                raise IllegalTransition(message_id, src.value, dst.value)
            values: dict[str, Any] = {"state": dst.value, "updated_at": now}
            if dst is State.QUEUED:
                values |= {"due_at": now, "last_error": None}
                if src in (State.FAILED, State.EXPIRED, State.CANCELLED):
                    values |= {"attempts": 0, "expires_at": None}
            changed = conn.execute(update(M).where(M.c.id == message_id,
                                                   M.c.state == src.value).values(**values))
            if changed.rowcount != 1:
                raise IllegalTransition(message_id, src.value, dst.value)
            self.write_events(conn, [TransitionRow(message_id, src.value, dst.value, reason,
                                                   actor=actor)], now)
        return dst

    # -- reading ------------------------------------------------------------------------

    def list(self, tenant: str, *, state: str | None = None, recipient: str | None = None,
             provider: str | None = None, message_type: str | None = None,
             before_id: int | None = None, limit: int = 50,
             created_from: datetime | None = None,
             created_before: datetime | None = None) -> list[dict[str, Any]]:
        conds = [M.c.tenant == tenant]
        for column, value in ((M.c.state, state), (M.c.recipient, recipient),
                              (M.c.provider, provider), (M.c.message_type, message_type)):
            if value is not None:
                conds.append(column == value)
        if before_id is not None:
            conds.append(M.c.id < before_id)
        if created_from is not None:
            conds.append(M.c.created_at >= created_from)
        if created_before is not None:
            conds.append(M.c.created_at < created_before)
        stmt = select(*_SUMMARY).where(and_(*conds)).order_by(M.c.id.desc()).limit(limit)
        with self.reader.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def get(self, tenant: str, message_id: int) -> dict[str, Any]:
        with self.reader.connect() as conn:
            row = conn.execute(select(M).where(M.c.id == message_id, M.c.tenant == tenant)).first()
            if row is None:
                raise MessageNotFound(message_id)
            timeline = conn.execute(select(E).where(E.c.message_id == message_id)
                                    .order_by(E.c.at, E.c.id)).all()
        out = dict(row._mapping)
        for key in ("to_addrs", "cc_addrs", "bcc_addrs", "headers"):
            out[key] = orjson.loads(out[key])
        out["timeline"] = [dict(t._mapping) for t in timeline]
        return out

    def counts(self, tenant: str | None = None) -> dict[str, int]:
        stmt = select(M.c.state, func.count()).group_by(M.c.state)
        if tenant is not None:
            stmt = stmt.where(M.c.tenant == tenant)
        with self.reader.connect() as conn:
            return {state: n for state, n in conn.execute(stmt).all()}

    def pending(self) -> int:
        """Messages that still wait for a definite answer (any tenant)."""
        with self.reader.connect() as conn:
            return int(conn.execute(select(func.count()).where(or_(
                M.c.state.in_(_DUE_STATES), M.c.state == State.ACTIVE.value))).scalar_one())


def _own_window_open(now: datetime) -> Any:
    """A message's own daily UTC window (HH:MM:SS text compares in time order); start > end
    wraps midnight; no window: always open."""
    moment = now.astimezone(UTC).strftime("%H:%M:%S")
    start, end = M.c.window_start, M.c.window_end
    return or_(start.is_(None), end.is_(None),
               and_(start <= end, start <= moment, moment <= end),
               and_(start > end, or_(moment >= start, moment <= end)))


_CLAIM_COLUMNS = (M.c.id, M.c.tenant, M.c.provider, M.c.sender, M.c.to_addrs, M.c.cc_addrs,
                  M.c.bcc_addrs, M.c.subject, M.c.body_text, M.c.body_html, M.c.headers,
                  M.c.message_id_header, M.c.attempts, M.c.created_at, M.c.expires_at,
                  M.c.channel, M.c.communication_channel, M.c.rule, M.c.payload)
_SUMMARY = (M.c.id, M.c.tenant, M.c.event_id, M.c.state, M.c.channel, M.c.provider,
            M.c.recipient, M.c.subject, M.c.message_type, M.c.template, M.c.attempts,
            M.c.created_at, M.c.updated_at, M.c.due_at, M.c.sent_at, M.c.last_error)


def _claimed(row: Any) -> Claimed:
    return Claimed(id=row.id, tenant=row.tenant, provider=row.provider, sender=row.sender,
                   to=orjson.loads(row.to_addrs), cc=orjson.loads(row.cc_addrs),
                   bcc=orjson.loads(row.bcc_addrs), subject=row.subject,
                   body_text=row.body_text, body_html=row.body_html,
                   headers=[(k, v) for k, v in orjson.loads(row.headers)],
                   message_id_header=row.message_id_header, attempts=row.attempts,
                   created_at=row.created_at, expires_at=row.expires_at,
                   extras=MessageExtras(row.channel, row.communication_channel, row.rule,
                                        orjson.loads(row.payload) if row.payload else {}))


_RECORD_COLUMNS = ("id", "state", "due_at", "sent_at", "last_error", "provider_response",
                   "provider_message_id")
_RECORD_PARAMS = ("b_id", "b_state", "b_due", "b_sent", "b_error", "b_response", "b_provider_id")
_RECORD_ROWS_A_STATEMENT = 4000  # 7 values a row, under SQLite's 32,766 parameters


def _record_statement(worker: str, now: datetime) -> Any:
    return (update(M)
            .where(M.c.id == bindparam("b_id"), M.c.state == State.ACTIVE.value,
                   M.c.leased_by == worker)
            .values(state=bindparam("b_state"), due_at=bindparam("b_due"),
                    sent_at=bindparam("b_sent"), last_error=bindparam("b_error"),
                    provider_response=bindparam("b_response"),
                    provider_message_id=func.coalesce(bindparam("b_provider_id"),
                                                      M.c.provider_message_id),
                    leased_by=None, lease_until=None, updated_at=now))


def _record_sqlite(conn: Connection, worker: str, params: Sequence[dict[str, Any]],
                   now: datetime) -> None:
    """The decisions of a batch as one ``UPDATE ... FROM (VALUES ...)`` (one sqlite3 step,
    where an executemany takes one step, and may wait for the GIL, per row)."""
    convert = {name: M.c[column].type.bind_processor(conn.dialect)
               for name, column in zip(_RECORD_PARAMS, _RECORD_COLUMNS, strict=True)}
    stamp = convert["b_due"]
    for start in range(0, len(params), _RECORD_ROWS_A_STATEMENT):
        chunk = params[start:start + _RECORD_ROWS_A_STATEMENT]
        values: list[Any] = []
        for p in chunk:
            values.extend(p[n] if (to := convert[n]) is None else to(p[n]) for n in _RECORD_PARAMS)
        values.extend([stamp(now) if stamp else now, worker])
        conn.exec_driver_sql(_record_sql(len(chunk)), tuple(values))


@functools.lru_cache(maxsize=64)
def _record_sql(count: int) -> str:
    row = "(" + ", ".join("?" * len(_RECORD_COLUMNS)) + ")"
    return (f"WITH v({', '.join(_RECORD_COLUMNS)}) AS (VALUES {', '.join([row] * count)}) "
            "UPDATE messages SET state = v.state, due_at = v.due_at, sent_at = v.sent_at, "
            "last_error = v.last_error, provider_response = v.provider_response, "
            "provider_message_id = coalesce(v.provider_message_id, "
            "messages.provider_message_id), leased_by = NULL, lease_until = NULL, "
            f"updated_at = ? FROM v WHERE messages.id = v.id AND messages.state = "
            f"'{State.ACTIVE.value}' AND messages.leased_by = ?")


def _decision_params(claimed: Claimed, decision: Decision, now: datetime) -> dict[str, Any]:
    sent = decision.state is State.SENT
    return {"b_id": claimed.id, "b_state": decision.state.value,
            "b_due": decision.due_at or now, "b_sent": now if sent else None,
            "b_error": None if sent else f"{decision.reason}: {decision.response}"[:2000],
            "b_response": decision.response[:2000] or None,
            "b_provider_id": decision.provider_id}


def _message_row(tenant: str, event_id: int | None, m: NewMessage, now: datetime) -> dict[str, Any]:
    return {"tenant": tenant, "event_id": event_id, "dedupe_key": m.dedupe_key, "rule": m.rule,
            "message_type": m.message_type, "channel": m.channel, "provider": m.provider,
            "state": m.state.value, "recipient": m.recipient, "to_addrs": _dumps(m.to),
            "cc_addrs": _dumps(m.cc), "bcc_addrs": _dumps(m.bcc), "sender": m.sender,
            "subject": m.subject, "body_html": m.body_html, "body_text": m.body_text,
            "headers": _dumps(m.headers), "message_id_header": m.message_id_header,
            "template": m.template, "template_version": m.template_version,
            "locale": m.locale, "created_at": now, "updated_at": now, "due_at": m.due_at,
            "expires_at": m.expires_at, "attempts": 0}
