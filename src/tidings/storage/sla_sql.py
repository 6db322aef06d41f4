"""Orders, obligations and deadline timers in SQL.

``record`` applies order events: it finds (and on PostgreSQL locks) the order, asks
``sla.orders.plan`` what the event does, and writes the timeline entry, the order's new facts,
met and cancelled obligations (their timers deleted, their exceptions closed) and new
obligations with their first timer, all in one transaction. ``record_in`` does the same inside a
caller's transaction (the ingest path).

``fire_due`` claims due timers the way the outbox claims messages: in ``fire_at`` order through
its index, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so several engines take disjoint rows, and
under SQLite's ``BEGIN IMMEDIATE`` single writer. The claim and its effects (warning or order
exception upserted, obligation stage moved, timer re-armed or deleted) commit together, so a
timer fires once. Lock order is timer row, then obligation row, in every transaction that
touches both (events that meet an obligation delete its timer first), so none deadlock.

``reevaluate`` recomputes the deadlines of a retailer's open obligations after a rule or
calendar change, in batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Row, and_, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from tidings.sla import orders, parties
from tidings.sla import rules as sla_rules
from tidings.sla import timers as sla_timers
from tidings.storage import tables_sla
from tidings.storage.engine import is_sqlite
from tidings.storage.sla_rules_sql import SqlRuleBooks

__all__ = ["Recorded", "SqlLifecycle", "scope"]

ORD = tables_sla.sla_orders
EV = tables_sla.sla_order_events
OB = tables_sla.sla_obligations
TI = tables_sla.sla_timers
EX = tables_sla.sla_exceptions
Stage = sla_timers.Stage
REEVALUATE_BATCH = 500
TIMELINE_LIMIT = 1000


@dataclass(frozen=True)
class Recorded:
    order_id: int
    order_ref: str
    event_id: int | None
    duplicate: bool
    status: str
    met: int = 0
    cancelled: int = 0
    started: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "order_ref": self.order_ref,
                "event_id": self.event_id, "duplicate": self.duplicate, "status": self.status,
                "met": self.met, "cancelled": self.cancelled, "started": self.started}


class SqlLifecycle:
    def __init__(self, engine: Engine, books: SqlRuleBooks) -> None:
        self.engine, self.books = engine, books
        self._sqlite = is_sqlite(engine)

    # -- order events -------------------------------------------------------------------

    def record(self, viewer: parties.Viewer, events: Sequence[orders.OrderEvent],
               now: datetime, source: str) -> list[Recorded]:
        """Apply events in one transaction; all or nothing."""
        for attempt in (1, 2):
            try:
                with self.engine.begin() as conn:
                    return [self._record_at(conn, viewer, i, e, now, source)
                            for i, e in enumerate(events)]
            except IntegrityError:
                # Two first events of one new order raced; the second pass finds the order.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _record_at(self, conn: Connection, viewer: parties.Viewer, index: int,
                   event: orders.OrderEvent, now: datetime, source: str) -> Recorded:
        try:
            return self.record_in(conn, viewer, event, now, source)
        except orders.OrderEventError as exc:
            exc.index = index
            raise

    def record_in(self, conn: Connection, viewer: parties.Viewer, event: orders.OrderEvent,
                  now: datetime, source: str) -> Recorded:
        order = self._find(conn, viewer, event)
        if order is None:
            order = self._create(conn, viewer, event, now)
        elif not viewer.sees(order.tenant, order.retailer, order.supplier):
            raise parties.NotFound(f"order {event.order_ref}")
        if event.external_id is not None and conn.execute(select(EV.c.id).where(
                EV.c.order_id == order.id, EV.c.external_id == event.external_id)).first():
            return Recorded(order.id, order.order_ref, None, True, order.status)
        known = conn.execute(select(OB.c.id, OB.c.obligation, OB.c.met_by, OB.c.state,
                                    OB.c.due_at).where(OB.c.order_id == order.id)).all()
        book = self.books.get(conn, viewer.tenant, order.retailer)
        plan = orders.plan(
            event, orjson.loads(order.details),
            [orders.OpenObligation(r.id, r.obligation, r.met_by) for r in known
             if r.state == "open"],
            frozenset(r.obligation for r in known), book, now)
        event_id = self._timeline(conn, order.id, [(event.type, event.external_id,
                                                     event.occurred_at or now, source,
                                                     {**event.summary, "notes": plan.notes})],
                                  now)[0]
        self._update_order(conn, order, event, plan, now)
        due_of = {r.id: r.due_at for r in known}
        self._meet(conn, order.id, plan.met, due_of, event.occurred_at or now, now)
        self._cancel(conn, order.id, plan.cancelled, now, f"{event.type} accepted")
        started = self._start(conn, order, plan.starts, now)
        return Recorded(order.id, order.order_ref, event_id, False, plan.status,
                        len(plan.met), len(plan.cancelled), started)

    def _find(self, conn: Connection, viewer: parties.Viewer,
              event: orders.OrderEvent) -> Row[Any] | None:
        """The order an event is about, among those the viewer may see (so that a party
        cannot learn whether someone else's order exists)."""
        attempts: list[list[Any]] = []
        if event.retailer is not None:
            attempts.append([ORD.c.retailer == event.retailer])
        if event.supplier is not None and event.type != orders.SUBMITTED:
            # Documents of one order may name the retailer differently (X12 856 falls back
            # to the interchange sender): the supplier's order with that number is the one.
            attempts.append([ORD.c.supplier == event.supplier])
        if event.retailer is None and event.supplier is None:
            attempts.append([])
        for extra in attempts:
            stmt = select(ORD).where(*scope(viewer, ORD), ORD.c.order_ref == event.order_ref,
                                     *extra).limit(2)
            if not self._sqlite:
                # NO KEY UPDATE: timers firing meanwhile may still insert rows that refer to
                # the order (their foreign keys take KEY SHARE), so they cannot deadlock us.
                stmt = stmt.with_for_update(key_share=True)
            rows = conn.execute(stmt).all()
            if len(rows) == 1:
                return rows[0]
            if len(rows) > 1:
                raise orders.OrderEventError("/order/id", f"order {event.order_ref!r} is "
                                             "ambiguous: name its retailer")
        return None

    def _create(self, conn: Connection, viewer: parties.Viewer, event: orders.OrderEvent,
                now: datetime) -> Row[Any]:
        if event.retailer is None or event.supplier is None:
            raise parties.NotFound(f"order {event.order_ref} (to create it, name its retailer "
                                   "and supplier)")
        if not viewer.sees(viewer.tenant, event.retailer, event.supplier):
            raise parties.NotFound(f"order {event.order_ref}")
        order_id = conn.execute(insert(ORD).values(
            tenant=viewer.tenant, retailer=event.retailer, supplier=event.supplier,
            order_ref=event.order_ref, status="submitted", details="{}", created_at=now,
            updated_at=now).returning(ORD.c.id)).scalar_one()
        return conn.execute(select(ORD).where(ORD.c.id == order_id)).one()

    def _update_order(self, conn: Connection, order: Row[Any], event: orders.OrderEvent,
                      plan: orders.Plan, now: datetime) -> None:
        values: dict[str, Any] = {"status": plan.status, "details": _dumps(plan.details),
                                  "updated_at": now}
        if event.type == orders.SUBMITTED:
            values["submitted_at"] = event.occurred_at or now
        conn.execute(update(ORD).where(ORD.c.id == order.id).values(**values))

    def _meet(self, conn: Connection, order_id: int, ids: Sequence[int],
              due_of: dict[int, datetime], met_at: datetime, now: datetime) -> None:
        if not ids:
            return
        conn.execute(delete(TI).where(TI.c.obligation_id.in_(ids)))  # timer row first
        entries = []
        for ob_id in ids:
            late = (met_at - due_of[ob_id]).total_seconds()
            conn.execute(update(OB).where(OB.c.id == ob_id).values(
                state="met", met_at=met_at, late_seconds=late, updated_at=now))
            conn.execute(update(EX).where(EX.c.obligation_id == ob_id, EX.c.status == "open")
                         .values(status="resolved", closed_at=now, met_at=met_at,
                                 late_seconds=late))
            entries.append(("sla.met", None, met_at, "sla",
                            {"obligation_id": ob_id, "late_seconds": late,
                             "on_time": late < 0}))
        self._timeline(conn, order_id, entries, now)

    def _cancel(self, conn: Connection, order_id: int, ids: Sequence[int], now: datetime,
                reason: str) -> None:
        if not ids:
            return
        conn.execute(delete(TI).where(TI.c.obligation_id.in_(ids)))
        conn.execute(update(OB).where(OB.c.id.in_(ids)).values(state="cancelled",
                                                               updated_at=now))
        conn.execute(update(EX).where(EX.c.obligation_id.in_(ids),
                                      EX.c.status.in_(("open", "escalated")))
                     .values(status="cancelled", closed_at=now))
        self._timeline(conn, order_id, [("sla.cancelled", None, now, "sla",
                                         {"obligation_id": i, "reason": reason}) for i in ids],
                       now)

    def _start(self, conn: Connection, order: Row[Any], starts: Sequence[orders.Start],
               now: datetime) -> list[dict[str, Any]]:
        started = []
        for start in starts:
            stage = Stage.PENDING
            ob_id = conn.execute(insert(OB).values(
                tenant=order.tenant, retailer=order.retailer, supplier=order.supplier,
                order_id=order.id, obligation=start.obligation.value, rule_id=start.rule.id,
                met_by=start.rule.met_by, state="open", stage=stage.value,
                started_at=start.started_at, due_at=start.due_at, warn_at=start.warn_at,
                due_week=start.due_week, updated_at=now).returning(OB.c.id)).scalar_one()
            self._arm(conn, ob_id, stage, start.warn_at, start.due_at)
            started.append({"obligation_id": ob_id, "obligation": start.obligation.value,
                            "rule": start.rule.id, "due_at": start.due_at.isoformat(),
                            "warn_at": start.warn_at.isoformat()})
        self._timeline(conn, order.id, [("sla.started", None, now, "sla", s) for s in started],
                       now)
        return started

    def _arm(self, conn: Connection, ob_id: int, stage: sla_timers.Stage, warn_at: datetime,
             due_at: datetime) -> None:
        conn.execute(delete(TI).where(TI.c.obligation_id == ob_id))
        timer = sla_timers.next_timer(stage, warn_at, due_at)
        if timer is not None:
            conn.execute(insert(TI).values(obligation_id=ob_id, kind=timer[0], fire_at=timer[1]))

    def _timeline(self, conn: Connection, order_id: int,
                  entries: Iterable[tuple[str, str | None, datetime, str, dict[str, Any]]],
                  now: datetime) -> list[int]:
        ids = []
        for kind, external_id, occurred_at, source, summary in entries:
            ids.append(conn.execute(insert(EV).values(
                order_id=order_id, type=kind, external_id=external_id, occurred_at=occurred_at,
                recorded_at=now, source=source, summary=_dumps(summary))
                .returning(EV.c.id)).scalar_one())
        return ids

    # -- timers -------------------------------------------------------------------------

    def fire_due(self, now: datetime, limit: int) -> sla_timers.Fired:
        due = (select(TI.c.obligation_id, TI.c.kind, OB.c.order_id, OB.c.tenant,
                      OB.c.retailer, OB.c.supplier, OB.c.obligation, OB.c.due_at,
                      ORD.c.order_ref)
               .join(OB, OB.c.id == TI.c.obligation_id)
               .join(ORD, ORD.c.id == OB.c.order_id)
               .where(TI.c.fire_at <= now)           # due: the index on fire_at is read in order
               .order_by(TI.c.fire_at)               # oldest deadline first
               .limit(limit))
        if not self._sqlite:
            # timers another engine is firing are skipped, not waited for
            due = due.with_for_update(skip_locked=True, of=TI)
        with self.engine.begin() as conn:
            rows = conn.execute(due).all()
            warns = [r for r in rows if r.kind == "warn"]
            dues = [r for r in rows if r.kind == "due"]
            self._fire_warnings(conn, warns, now)
            self._fire_overdue(conn, dues, now)
        return sla_timers.Fired(len(warns), len(dues))

    def _fire_warnings(self, conn: Connection, rows: Sequence[Any], now: datetime) -> None:
        if not rows:
            return
        self._open_exceptions(conn, rows, "warning", now)
        ids = [r.obligation_id for r in rows]
        conn.execute(update(OB).where(OB.c.id.in_(ids)).values(stage=Stage.WARNED.value,
                                                               updated_at=now))
        conn.execute(update(TI).where(TI.c.obligation_id == bindparam("b_id"))
                     .values(kind="due", fire_at=bindparam("b_due")),
                     [{"b_id": r.obligation_id, "b_due": r.due_at} for r in rows])
        self._fired_timeline(conn, rows, "sla.warning", now)

    def _fire_overdue(self, conn: Connection, rows: Sequence[Any], now: datetime) -> None:
        if not rows:
            return
        ids = [r.obligation_id for r in rows]
        conn.execute(update(EX).where(EX.c.obligation_id.in_(ids), EX.c.kind == "warning",
                                      EX.c.status == "open")
                     .values(status="escalated", closed_at=now))
        self._open_exceptions(conn, rows, "overdue", now)
        conn.execute(update(OB).where(OB.c.id.in_(ids)).values(stage=Stage.OVERDUE.value,
                                                               updated_at=now))
        conn.execute(delete(TI).where(TI.c.obligation_id.in_(ids)))
        self._fired_timeline(conn, rows, "sla.overdue", now)

    def _open_exceptions(self, conn: Connection, rows: Sequence[Any], kind: str,
                         now: datetime) -> None:
        values = [{"tenant": r.tenant, "retailer": r.retailer, "supplier": r.supplier,
                   "order_id": r.order_id, "order_ref": r.order_ref,
                   "obligation_id": r.obligation_id, "obligation": r.obligation, "kind": kind,
                   "status": "open", "due_at": r.due_at, "opened_at": now} for r in rows]
        stmt = self._insert(EX)
        # A rule change may have cancelled this exception before: it opens again. One
        # statement run for many rows (compiled once), not one many-row VALUES.
        conn.execute(stmt.on_conflict_do_update(
            index_elements=[EX.c.obligation_id, EX.c.kind],
            set_={"status": "open", "due_at": stmt.excluded.due_at,
                  "opened_at": stmt.excluded.opened_at, "closed_at": None, "met_at": None,
                  "late_seconds": None}), values)

    def _fired_timeline(self, conn: Connection, rows: Sequence[Any], kind: str,
                        now: datetime) -> None:
        conn.execute(insert(EV), [
            {"order_id": r.order_id, "type": kind, "external_id": None, "occurred_at": now,
             "recorded_at": now, "source": "sla",
             "summary": _dumps({"obligation_id": r.obligation_id, "obligation": r.obligation,
                                "due_at": r.due_at.isoformat()})} for r in rows])

    def next_fire_at(self) -> datetime | None:
        with self.engine.connect() as conn:
            return conn.execute(select(TI.c.fire_at).order_by(TI.c.fire_at).limit(1)).scalar()

    # -- rule changes -------------------------------------------------------------------

    def reevaluate(self, tenant: str, retailer: str, now: datetime,
                   batch: int = REEVALUATE_BATCH) -> dict[str, int]:
        """Recompute open obligations' deadlines with the retailer's current rule book."""
        counts = {"checked": 0, "rescheduled": 0, "cancelled": 0}
        after = 0
        while True:
            with self.engine.begin() as conn:
                rows = self._open_batch(conn, tenant, retailer, after, batch)
                if not rows:
                    return counts
                book = self.books.get(conn, tenant, retailer)
                for row in rows:
                    if isinstance(row, _Skip):
                        break
                    outcome = self._reevaluate_one(conn, row, book, now)
                    counts["checked"] += 1
                    if outcome:
                        counts[outcome] += 1
                after = rows[-1].id

    def _open_batch(self, conn: Connection, tenant: str, retailer: str, after: int,
                    batch: int) -> Sequence[Any]:
        ids = list(conn.execute(
            select(OB.c.id).where(OB.c.tenant == tenant, OB.c.retailer == retailer,
                                  OB.c.state == "open", OB.c.id > after)
            .order_by(OB.c.id).limit(batch)).scalars())
        if not ids:
            return []
        stmt = (select(OB, ORD.c.details).join(ORD, ORD.c.id == OB.c.order_id)
                .where(OB.c.id.in_(ids), OB.c.state == "open").order_by(OB.c.id))
        if not self._sqlite:
            # Timer rows before obligation rows, the order every transaction locks them in.
            conn.execute(select(TI.c.obligation_id).where(TI.c.obligation_id.in_(ids))
                         .order_by(TI.c.obligation_id).with_for_update())
            stmt = stmt.with_for_update(key_share=True, of=OB)
        rows = conn.execute(stmt).all()
        return rows or [_Skip(ids[-1])]

    def _reevaluate_one(self, conn: Connection, row: Row[Any], book: Any,
                        now: datetime) -> str | None:
        order = orjson.loads(row.details).get("order", {})
        supplier = order.get("supplier_party") or {"id": row.supplier}
        obligation = sla_rules.Obligation(row.obligation)
        candidates = book.rules_for(obligation) if book is not None else []
        rule = sla_rules.select_rule(candidates, obligation, order, supplier)
        if rule is None:
            self._cancel(conn, row.order_id, [row.id], now, "no rule applies any more")
            return "cancelled"
        due, warn = sla_rules.compute_deadline(rule, book.calendar, row.started_at)
        if (rule.id, due, warn) == (row.rule_id, row.due_at, row.warn_at):
            return None
        current = Stage(row.stage)
        stage = sla_timers.rewind(current, sla_timers.stage_at(now, warn, due))
        self._rewind_exceptions(conn, row.id, current, stage, due, now)
        conn.execute(update(OB).where(OB.c.id == row.id).values(
            rule_id=rule.id, due_at=due, warn_at=warn, stage=stage.value,
            due_week=orders.iso_week(due, book.calendar.zone), updated_at=now))
        self._arm(conn, row.id, stage, warn, due)
        self._timeline(conn, row.order_id, [("sla.rescheduled", None, now, "sla", {
            "obligation_id": row.id, "rule": rule.id, "due_at": due.isoformat(),
            "previous_due_at": row.due_at.isoformat()})], now)
        return "rescheduled"

    def _rewind_exceptions(self, conn: Connection, ob_id: int, current: Stage, stage: Stage,
                           due: datetime, now: datetime) -> None:
        mine = EX.c.obligation_id == ob_id
        if current is Stage.OVERDUE and stage is not Stage.OVERDUE:
            conn.execute(update(EX).where(mine, EX.c.kind == "overdue", EX.c.status == "open")
                         .values(status="cancelled", closed_at=now))
        if stage is Stage.WARNED and current is Stage.OVERDUE:
            conn.execute(update(EX).where(mine, EX.c.kind == "warning",
                                          EX.c.status == "escalated")
                         .values(status="open", closed_at=None))
        if stage is Stage.PENDING and current is not Stage.PENDING:
            conn.execute(update(EX).where(mine, EX.c.kind == "warning",
                                          EX.c.status.in_(("open", "escalated")))
                         .values(status="cancelled", closed_at=now))
        conn.execute(update(EX).where(mine, EX.c.status == "open").values(due_at=due))

    # -- reading ------------------------------------------------------------------------

    def order(self, viewer: parties.Viewer, order_id: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(ORD).where(ORD.c.id == order_id,
                                                 *scope(viewer, ORD))).first()
            if row is None:
                raise parties.NotFound(f"order {order_id}")
            timeline = conn.execute(select(EV).where(EV.c.order_id == order_id)
                                    .order_by(EV.c.occurred_at, EV.c.id)
                                    .limit(TIMELINE_LIMIT)).all()
            obligations = conn.execute(select(OB).where(OB.c.order_id == order_id)
                                       .order_by(OB.c.id)).all()
        out = _order_json(row)
        out["details"] = orjson.loads(row.details)
        out["timeline"] = [{"id": t.id, "type": t.type, "external_id": t.external_id,
                            "occurred_at": t.occurred_at, "recorded_at": t.recorded_at,
                            "source": t.source, "summary": orjson.loads(t.summary)}
                           for t in timeline]
        out["obligations"] = [_obligation_json(o) for o in obligations]
        return out

    def orders(self, viewer: parties.Viewer, *, retailer: str | None = None,
               supplier: str | None = None, status: str | None = None,
               order_ref: str | None = None, before_id: int | None = None,
               limit: int = 50) -> list[dict[str, Any]]:
        conds = list(scope(viewer, ORD))
        for column, value in ((ORD.c.retailer, retailer), (ORD.c.supplier, supplier),
                              (ORD.c.status, status), (ORD.c.order_ref, order_ref)):
            if value is not None:
                conds.append(column == value)
        if before_id is not None:
            conds.append(ORD.c.id < before_id)
        stmt = select(ORD).where(and_(*conds)).order_by(ORD.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_order_json(r) for r in conn.execute(stmt)]

    def _insert(self, table: Any) -> Any:
        return sqlite.insert(table) if self._sqlite else postgresql.insert(table)


@dataclass(frozen=True, slots=True)
class _Skip:
    """A batch whose obligations were all closed meanwhile: go on after ``id``."""

    id: int


def scope(viewer: parties.Viewer, table: Any) -> list[Any]:
    """The viewer's rule as SQL: the tenant, and the party's own column when it has one."""
    conds = [table.c.tenant == viewer.tenant]
    if viewer.kind is parties.PartyKind.RETAILER:
        conds.append(table.c.retailer == viewer.party)
    elif viewer.kind is parties.PartyKind.SUPPLIER:
        conds.append(table.c.supplier == viewer.party)
    return conds


def _order_json(row: Row[Any]) -> dict[str, Any]:
    return {"id": row.id, "order_ref": row.order_ref, "retailer": row.retailer,
            "supplier": row.supplier, "status": row.status, "submitted_at": row.submitted_at,
            "created_at": row.created_at, "updated_at": row.updated_at}


def _obligation_json(row: Row[Any]) -> dict[str, Any]:
    return {"id": row.id, "obligation": row.obligation, "rule": row.rule_id,
            "state": row.state, "stage": row.stage, "started_at": row.started_at,
            "due_at": row.due_at, "warn_at": row.warn_at, "met_at": row.met_at,
            "late_seconds": row.late_seconds}


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()
