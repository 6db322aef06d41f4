"""Feedback in SQL: notices applied by precedence, opens and clicks, the suppression list.

``SqlFeedback.apply`` takes one :class:`~tidings.feedback.notices.Notice` in one
transaction: it drops a notice whose key was applied before, finds the message
(row locked on PostgreSQL, so two notices for one message are applied one after
the other), writes the notice on the timeline, keeps the best status in
``message_feedback``, moves the outbox state up its ladder when precedence says
so, and suppresses addresses that hard-bounced, complained, unsubscribed, or
soft-bounced ``soft_bounce_limit`` messages in a row... in any order.

``follow`` reads the dispatcher's own verdicts from ``message_events`` (a 5xx
at RCPT is a hard bounce too), keeps the provider's message id of what was
sent, and reconciles a message whose feedback arrived before its ``sent`` was
recorded.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, func, select, update

from tidings.domain.states import State
from tidings.feedback import precedence, verp
from tidings.feedback.notices import Kind, MessageRef, Notice
from tidings.storage import tables
from tidings.storage.outbox_sql import SqlOutbox, TransitionRow
from tidings.storage.tables_feedback import (
    feedback_cursors,
    feedback_receipts,
    message_feedback,
    suppressions,
)

__all__ = ["Applied", "SqlFeedback", "SqlSuppressions", "Tracked"]

M = tables.messages
E = tables.message_events
F = message_feedback
S = suppressions
FOLLOW_BATCH = 1000
FOLLOWER = "dispatch"
_PROVIDER_ID = re.compile(r"\bMessageId (\S+)")
# Why an address is suppressed; a stronger reason replaces a weaker one.
SUPPRESSION_RANK = {"unsubscribed": 1, "soft_bounce": 2, "hard_bounce": 3, "complained": 4,
                    "manual": 5}
_SUPPRESSING = {Kind.HARD_BOUNCE: "hard_bounce", Kind.COMPLAINED: "complained",
                Kind.UNSUBSCRIBED: "unsubscribed"}


@dataclass(frozen=True, slots=True)
class Applied:
    outcome: str  # applied | duplicate | unknown_message
    message_id: int | None = None
    tenant: str | None = None
    state: str | None = None
    status: str | None = None
    suppressed: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Tracked:
    """A message a tracking token points at."""

    message_id: int
    tenant: str
    state: str
    sent_at: datetime | None


def _insert(conn: Connection, table: Any) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert
    return sqlite_insert(table)


def _addresses(row: Any) -> set[str]:
    found = {row.recipient.lower()}
    for column in (row.to_addrs, row.cc_addrs, row.bcc_addrs):
        found.update(a.lower() for a in orjson.loads(column))
    return found


class SqlFeedback:
    def __init__(self, engine: Engine, outbox: SqlOutbox, soft_bounce_limit: int = 3) -> None:
        self.engine, self.outbox, self.soft_bounce_limit = engine, outbox, soft_bounce_limit

    # -- notices ------------------------------------------------------------------------

    def apply(self, notice: Notice, now: datetime) -> Applied:
        with self.engine.begin() as conn:
            return self.apply_in(conn, notice, now)

    def apply_in(self, conn: Connection, notice: Notice, now: datetime) -> Applied:
        row = _find(conn, notice.ref)
        if row is None:
            return Applied("unknown_message")
        if notice.key is not None and not _first_receipt(conn, notice, now):
            return Applied("duplicate", row.id, row.tenant, row.state)
        addresses = _addresses(row)
        affected = [a.lower() for a in notice.recipients if a.lower() in addresses] \
            if notice.recipients else [row.recipient.lower()]
        primary = row.recipient.lower() in affected
        status = _keep_best(conn, row.id, notice, now) if primary else None
        state = self._move(conn, row, notice, now) if primary else row.state
        self.outbox.write_events(conn, [_timeline_row(row, notice, state)], now, kind="feedback")
        suppressed = [a for a in affected if self._maybe_suppress(conn, row, a, notice, now)]
        return Applied("applied", row.id, row.tenant, state, status, suppressed)

    def _move(self, conn: Connection, row: Any, notice: Notice, now: datetime) -> str:
        target = precedence.state_after(State(row.state), notice.kind)
        if target is None:
            return str(row.state)
        conn.execute(update(M).where(M.c.id == row.id, M.c.state == row.state)
                     .values(state=target.value, updated_at=now))
        self.outbox.write_events(conn, [TransitionRow(
            row.id, row.state, target.value, f"feedback: {notice.kind.value}",
            notice.reason[:2000] or None, notice.source)], now)
        return target.value

    def _maybe_suppress(self, conn: Connection, row: Any, address: str, notice: Notice,
                        now: datetime) -> bool:
        reason = _SUPPRESSING.get(notice.kind)
        recipient = row.recipient if row.recipient.lower() == address else address
        if reason is None and notice.kind is Kind.SOFT_BOUNCE and \
                _soft_bounced(conn, row.tenant, recipient) >= self.soft_bounce_limit:
            reason = "soft_bounce"
        if reason is None:
            return False
        detail = f"{notice.code} {notice.reason}".strip()[:500]
        return suppress(conn, row.tenant, address, reason, detail, notice.source, row.id, now)

    # -- the dispatcher's verdicts ------------------------------------------------------

    def follow(self, now: datetime, limit: int = FOLLOW_BATCH) -> int:
        """Apply what the dispatcher recorded since the last call; returns rows read.

        Reads outside a transaction and writes only when there is something new
        (on SQLite a write transaction would take the lock every maintenance tick).
        Two nodes following at once apply each bounce once: its key is the event id.
        """
        with self.engine.connect() as conn:
            last = conn.execute(select(feedback_cursors.c.last_id).where(
                feedback_cursors.c.name == FOLLOWER)).scalar() or 0
            rows = conn.execute(
                select(E.c.id, E.c.message_id, E.c.to_state, E.c.reason, E.c.response, E.c.at)
                .where(E.c.id > last, E.c.kind == "transition",
                       E.c.from_state == State.ACTIVE.value,
                       E.c.to_state.in_([State.BOUNCED.value, State.SENT.value]))
                .order_by(E.c.id).limit(limit)).all()
        if not rows:
            return 0
        with self.engine.begin() as conn:
            for event in rows:
                self._follow_one(conn, event, now)
            _save_cursor(conn, max(r.id for r in rows), now)
        return len(rows)

    def _follow_one(self, conn: Connection, event: Any, now: datetime) -> None:
        if event.to_state == State.BOUNCED.value:
            kind = Kind.SOFT_BOUNCE if (event.reason or "").startswith("soft") \
                else Kind.HARD_BOUNCE
            self.apply_in(conn, Notice(kind, event.at, "dispatch", MessageRef(event.message_id),
                                       reason=event.response or "", key=str(event.id)), now)
            return
        _adopt_provider_id(conn, event)
        best = conn.execute(select(F.c.status).where(F.c.message_id == event.message_id)).scalar()
        if best and precedence.outbox_target(Kind(best)) is not None:
            row = _find(conn, MessageRef(event.message_id))
            if row is not None:
                self._move(conn, row, Notice(Kind(best), event.at, "reconcile",
                                             MessageRef(row.id)), now)

    # -- opens and clicks -----------------------------------------------------------------

    def tracked(self, message_id_header: str) -> Tracked | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(M.c.id, M.c.tenant, M.c.state, M.c.sent_at)
                               .where(M.c.message_id_header == message_id_header)).first()
        return Tracked(row.id, row.tenant, row.state, row.sent_at) if row else None

    def engage(self, message: Tracked, kind: str, human: bool, why: str, url: str | None,
               now: datetime) -> None:
        """Record one open or click: a timeline event and the message's counters."""
        column = f"{'human' if human else 'machine'}_{kind}s"
        first = "first_open_at" if kind == "open" else "first_click_at"
        with self.engine.begin() as conn:
            self.outbox.write_events(conn, [TransitionRow(
                message.message_id, None, message.state, why, url, "tracking")], now, kind=kind)
            values: dict[str, Any] = {"message_id": message.message_id, column: 1,
                                      "updated_at": now}
            if human:
                values[first] = now
            stmt = _insert(conn, F).values(**values)
            changes: dict[str, Any] = {column: F.c[column] + 1, "updated_at": now}
            if human:
                changes[first] = func.coalesce(F.c[first], now)
            conn.execute(stmt.on_conflict_do_update(index_elements=[F.c.message_id],
                                                    set_=changes))


def _find(conn: Connection, ref: MessageRef) -> Any:
    """The message a reference names: by row id, else the provider's id, else Message-ID."""
    columns = (M.c.id, M.c.tenant, M.c.state, M.c.recipient, M.c.to_addrs, M.c.cc_addrs,
               M.c.bcc_addrs, M.c.message_id_header)
    conditions = [c for c, given in ((M.c.id == ref.message_id, ref.message_id is not None),
                                     (M.c.provider_message_id == ref.provider_message_id,
                                      bool(ref.provider_message_id)),
                                     (M.c.message_id_header == ref.message_id_header,
                                      bool(ref.message_id_header))) if given]
    for condition in conditions:
        stmt = select(*columns).where(condition).order_by(M.c.id).limit(1)
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()  # one notice per message at a time
        row = conn.execute(stmt).first()
        if row is None:
            continue
        if ref.tenant is not None and row.tenant != ref.tenant:
            return None
        if ref.proof is not None and \
                not hmac.compare_digest(verp.proof_of(row.message_id_header), ref.proof):
            return None
        return row
    return None


def _adopt_provider_id(conn: Connection, event: Any) -> None:
    """Keep the provider's id of a sent message, from the answer the dispatcher recorded.

    A bridge: the outbox does not store ``Sent.provider_id`` yet, but the SES
    provider's answer reads ``200 MessageId <id>``, and SES feedback names the
    message by that id only (SES replaces our Message-ID header).
    """
    found = _PROVIDER_ID.search(event.response or "")
    if found is not None:
        conn.execute(update(M).where(M.c.id == event.message_id,
                                     M.c.provider_message_id.is_(None))
                     .values(provider_message_id=found.group(1)[:255]))


def _first_receipt(conn: Connection, notice: Notice, now: datetime) -> bool:
    stmt = _insert(conn, feedback_receipts).values(
        source=notice.source[:32], key=notice.key, received_at=now).on_conflict_do_nothing()
    # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT DO NOTHING
    return conn.execute(stmt.returning(feedback_receipts.c.key)).first() is not None


def _keep_best(conn: Connection, message_id: int, notice: Notice, now: datetime) -> str | None:
    """Store the notice's status when it outranks the message's; returns the best status."""
    rank = precedence.rank(notice.kind)
    if rank:
        values = {"message_id": message_id, "status": notice.kind.value, "status_rank": rank,
                  "status_at": notice.at, "status_code": notice.code[:64],
                  "status_reason": notice.reason[:2000], "updated_at": now}
        stmt = _insert(conn, F).values(**values)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=[F.c.message_id],
            set_={k: stmt.excluded[k] for k in values if k != "message_id"},
            where=F.c.status_rank < rank))
    return conn.execute(select(F.c.status).where(F.c.message_id == message_id)).scalar()


def _soft_bounced(conn: Connection, tenant: str, recipient: str) -> int:
    """Messages to ``recipient`` whose best status is a soft bounce."""
    return int(conn.execute(
        select(func.count()).select_from(M.join(F, F.c.message_id == M.c.id))
        .where(M.c.tenant == tenant, M.c.recipient == recipient,
               F.c.status == Kind.SOFT_BOUNCE.value)).scalar_one())


def _timeline_row(row: Any, notice: Notice, state: str) -> TransitionRow:
    response = orjson.dumps({"code": notice.code, "recipients": list(notice.recipients),
                             "at": notice.at.isoformat(), **notice.detail}).decode()
    reason = f"{notice.kind.value}: {notice.reason}" if notice.reason else notice.kind.value
    return TransitionRow(row.id, row.state, state, reason[:2000], response, notice.source)


def _save_cursor(conn: Connection, last_id: int, now: datetime) -> None:
    stmt = _insert(conn, feedback_cursors).values(name=FOLLOWER, last_id=last_id, updated_at=now)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=[feedback_cursors.c.name],
        set_={"last_id": func.max(feedback_cursors.c.last_id, last_id)
              if conn.dialect.name == "sqlite" else func.greatest(feedback_cursors.c.last_id,
                                                                  last_id),
              "updated_at": now}))


def suppress(conn: Connection, tenant: str, address: str, reason: str, detail: str,
             source: str, message_id: int | None, now: datetime) -> bool:
    """Put an address on the list, or give it a stronger reason; True when it changed."""
    address = address.strip().lower()
    values = {"tenant": tenant, "address": address, "reason": reason, "detail": detail,
              "source": source, "message_id": message_id, "created_at": now, "updated_at": now}
    inserted = conn.execute(_insert(conn, S).values(**values).on_conflict_do_nothing()
                            .returning(S.c.address)).first()
    if inserted is not None:
        return True
    current = conn.execute(select(S.c.reason).where(S.c.tenant == tenant,
                                                    S.c.address == address)).scalar()
    if SUPPRESSION_RANK.get(reason, 0) <= SUPPRESSION_RANK.get(current or "", 0):
        return False
    changed = conn.execute(update(S).where(S.c.tenant == tenant, S.c.address == address,
                                           S.c.reason == current)
                           .values(reason=reason, detail=detail, source=source,
                                   message_id=message_id, updated_at=now))
    return bool(changed.rowcount == 1)


class SqlSuppressions:
    """The suppression list as operators see it: list, add, remove, check."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def list(self, tenant: str, *, reason: str | None = None, address: str | None = None,
             limit: int = 100, after: str | None = None) -> list[dict[str, Any]]:
        stmt = select(S).where(S.c.tenant == tenant)
        if reason is not None:
            stmt = stmt.where(S.c.reason == reason)
        if address is not None:
            stmt = stmt.where(S.c.address == address.strip().lower())
        if after is not None:
            stmt = stmt.where(S.c.address > after)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(S.c.address).limit(limit)).all()
        return [dict(r._mapping) for r in rows]

    def add(self, tenant: str, address: str, reason: str, detail: str, actor: str,
            now: datetime) -> bool:
        with self.engine.begin() as conn:
            return suppress(conn, tenant, address, reason, detail, actor, None, now)

    def remove(self, tenant: str, address: str) -> bool:
        with self.engine.begin() as conn:
            gone = conn.execute(S.delete().where(S.c.tenant == tenant,
                                                 S.c.address == address.strip().lower()))
        return bool(gone.rowcount)

    def which(self, conn: Connection, tenant: str, addresses: Sequence[str]) -> dict[str, str]:
        """The given addresses that are suppressed, with their reason."""
        wanted = sorted({a.strip().lower() for a in addresses})
        if not wanted:
            return {}
        rows = conn.execute(select(S.c.address, S.c.reason).where(
            S.c.tenant == tenant, S.c.address.in_(wanted))).all()
        return {r.address: r.reason for r in rows}

