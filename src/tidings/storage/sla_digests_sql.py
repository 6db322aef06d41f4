"""Digest subscriptions, their fire-once runs, and delivering a run into the outbox.

``claim_due`` is the scheduler's claim: subscriptions whose ``next_run_at`` has come, through
its index, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (concurrent schedulers take disjoint
rows) and under ``BEGIN IMMEDIATE`` on SQLite. Each due slot inserts its
``(subscription_id, slot)`` row with ``ON CONFLICT DO NOTHING``; only an inserted row is
returned as a job, so a slot fires once even if two schedulers looked at it.

``deliver`` runs one job in one transaction: the run row is locked while ``queued``, the
user's exceptions are read, the digest is composed and inserted into the outbox, and the run
becomes ``sent`` (or ``empty``) in the same commit. A job delivered twice finds its run done.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tidings.sla import digests, parties, schedule, scheduler, subscriptions
from tidings.sla.subscriptions import SubscriptionInput
from tidings.storage import tables_sla
from tidings.storage.engine import is_sqlite
from tidings.storage.outbox_sql import SqlOutbox
from tidings.storage.sla_reads_sql import SqlSlaReads
from tidings.storage.sla_sql import scope

__all__ = ["SqlDigests"]

S = tables_sla.sla_subscriptions
RUN = tables_sla.sla_digest_runs


class SqlDigests:
    def __init__(self, engine: Engine, reads: SqlSlaReads, outbox: SqlOutbox) -> None:
        self.engine, self.reads, self.outbox = engine, reads, outbox
        self._sqlite = is_sqlite(engine)

    # -- subscriptions --------------------------------------------------------------------

    def create(self, tenant: str, supplier: str, sub: SubscriptionInput,
               now: datetime) -> dict[str, Any]:
        with self.engine.begin() as conn:
            sub_id = conn.execute(insert(S).values(
                tenant=tenant, supplier=supplier, created_at=now, **_values(sub, now, True))
                .returning(S.c.id)).scalar_one()
        return self._get(sub_id)

    def update(self, viewer: parties.Viewer, sub_id: int, doc: dict[str, Any],
               now: datetime) -> dict[str, Any]:
        with self.engine.begin() as conn:
            row = self._row(conn, viewer, sub_id, lock=True)
            before = SubscriptionInput.of_stored(_decoded(row._mapping))
            sub = before.patched(doc)
            # A changed schedule (or opting in again) fires from now on: slots already past
            # are not sent late. Other edits keep the pending slot.
            rearm = (sub.cron, sub.timezone, sub.enabled) != \
                (before.cron, before.timezone, before.enabled)
            conn.execute(update(S).where(S.c.id == sub_id).values(**_values(sub, now, rearm)))
        return self._get(sub_id)

    def get(self, viewer: parties.Viewer, sub_id: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return _json(self._row(conn, viewer, sub_id)._mapping)

    def list_for(self, viewer: parties.Viewer,
                 supplier: str | None = None) -> list[dict[str, Any]]:
        stmt = select(S).where(*scope(viewer, S)).order_by(S.c.id)
        if supplier is not None:
            stmt = stmt.where(S.c.supplier == supplier)
        with self.engine.connect() as conn:
            return [_json(r._mapping) for r in conn.execute(stmt)]

    def delete(self, viewer: parties.Viewer, sub_id: int) -> None:
        with self.engine.begin() as conn:
            self._row(conn, viewer, sub_id, lock=True)
            conn.execute(delete(RUN).where(RUN.c.subscription_id == sub_id))
            conn.execute(delete(S).where(S.c.id == sub_id))

    def runs(self, viewer: parties.Viewer, sub_id: int, limit: int = 100) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            self._row(conn, viewer, sub_id)
            return [dict(r._mapping) for r in conn.execute(
                select(RUN).where(RUN.c.subscription_id == sub_id)
                .order_by(RUN.c.slot_at.desc()).limit(limit))]

    def _row(self, conn: Connection, viewer: parties.Viewer, sub_id: int,
             lock: bool = False) -> Any:
        if viewer.kind is parties.PartyKind.RETAILER:
            raise parties.NotFound(f"subscription {sub_id}")  # retailers have none
        stmt = select(S).where(S.c.id == sub_id, *scope(viewer, S))
        if lock and not self._sqlite:
            stmt = stmt.with_for_update()
        row = conn.execute(stmt).first()
        if row is None:
            raise parties.NotFound(f"subscription {sub_id}")
        return row

    def _get(self, sub_id: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return _json(conn.execute(select(S).where(S.c.id == sub_id)).one()._mapping)

    # -- the scheduler's side -------------------------------------------------------------

    def claim_due(self, now: datetime, limit: int,
                  scheduler_name: str) -> tuple[int, list[scheduler.RunKey]]:
        due = (select(S.c.id, S.c.cron, S.c.timezone, S.c.last_slot_at)
               .where(S.c.next_run_at <= now)      # due; NULL (opted out) never is
               .order_by(S.c.next_run_at)          # the longest waiting first, by the index
               .limit(limit))
        if not self._sqlite:
            # subscriptions another scheduler is looking at are skipped, not waited for
            due = due.with_for_update(skip_locked=True)
        created = []
        with self.engine.begin() as conn:
            rows = conn.execute(due).all()
            for row in rows:
                slot_at, next_run = scheduler.decide(row.cron, row.timezone, row.last_slot_at,
                                                     now)
                values: dict[str, Any] = {"next_run_at": next_run}
                if slot_at is not None:
                    key = scheduler.RunKey(row.id, _slot_key(row, slot_at))
                    if self._insert_run(conn, key, slot_at, scheduler_name, now):
                        created.append(key)
                    values["last_slot_at"] = slot_at
                conn.execute(update(S).where(S.c.id == row.id).values(**values))
        return len(rows), created

    def _insert_run(self, conn: Connection, key: scheduler.RunKey, slot_at: datetime,
                    scheduler_name: str, now: datetime) -> bool:
        table_insert = sqlite.insert(RUN) if self._sqlite else postgresql.insert(RUN)
        stmt = table_insert.values(subscription_id=key.subscription_id, slot=key.slot,
                                   slot_at=slot_at, state="queued", scheduler=scheduler_name,
                                   queued_at=now).on_conflict_do_nothing(
            index_elements=[RUN.c.subscription_id, RUN.c.slot])
        return conn.execute(stmt.returning(RUN.c.slot)).first() is not None

    def stale_runs(self, queued_before: datetime, limit: int) -> list[scheduler.RunKey]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(RUN.c.subscription_id, RUN.c.slot).where(
                RUN.c.state == "queued", RUN.c.queued_at < queued_before)
                .order_by(RUN.c.queued_at).limit(limit)).all()
        return [scheduler.RunKey(r.subscription_id, r.slot) for r in rows]

    # -- the job's side -------------------------------------------------------------------

    def deliver(self, key: scheduler.RunKey, compose: digests.Compose, now: datetime,
                top: int) -> str:
        with self.engine.begin() as conn:
            run = self._queued_run(conn, key)
            if run is None:
                return "done"
            sub = conn.execute(select(S).where(S.c.id == key.subscription_id)).one()._mapping
            sections = self.reads.digest_sections(
                conn, sub["tenant"], sub["supplier"], _list(sub["retailers"]),
                _list(sub["obligations"]), top)
            message = compose(_decoded(sub), sections, key.slot, run.slot_at, now)
            if message is None:
                self._finish(conn, key, "empty", None, "no open exceptions", now)
                return "empty"
            ids = self.outbox.insert(conn, sub["tenant"], None, [message], now)
            self._finish(conn, key, "sent", ids[0], f"{len(sections)} retailers", now)
        return "sent"

    def fail(self, key: scheduler.RunKey, detail: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            self._finish(conn, key, "failed", None, detail[:2000], now)

    def _queued_run(self, conn: Connection, key: scheduler.RunKey) -> Any:
        stmt = select(RUN).where(RUN.c.subscription_id == key.subscription_id,
                                 RUN.c.slot == key.slot, RUN.c.state == "queued")
        if not self._sqlite:
            stmt = stmt.with_for_update()  # a second delivery of the same job waits, then skips
        return conn.execute(stmt).first()

    def _finish(self, conn: Connection, key: scheduler.RunKey, state: str,
                message_id: int | None, detail: str, now: datetime) -> None:
        conn.execute(update(RUN).where(RUN.c.subscription_id == key.subscription_id,
                                       RUN.c.slot == key.slot, RUN.c.state == "queued")
                     .values(state=state, message_id=message_id, detail=detail, done_at=now))


def _values(sub: SubscriptionInput, now: datetime, rearm: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "email": sub.email, "name": sub.name, "locale": sub.locale, "enabled": sub.enabled,
        "cron": sub.cron, "timezone": sub.timezone,
        "retailers": None if sub.retailers is None else _dumps(list(sub.retailers)),
        "obligations": None if sub.obligations is None else _dumps(list(sub.obligations)),
        "send_empty": sub.send_empty, "updated_at": now}
    if rearm:
        values["next_run_at"] = schedule.next_runs(sub.cron, sub.timezone, now, 1)[0] \
            if sub.enabled else None
        values["last_slot_at"] = now
    return values


def _slot_key(row: Any, slot_at: datetime) -> str:
    return schedule.slot_key(row.cron, row.timezone, slot_at)


def _decoded(row: Any) -> dict[str, Any]:
    return {**row, "retailers": _list(row["retailers"]),
            "obligations": _list(row["obligations"])}


def _json(row: Any) -> dict[str, Any]:
    out = subscriptions.describe(SubscriptionInput.of_stored(_decoded(row)))
    return {"id": row["id"], "supplier": row["supplier"], **out,
            "next_run_at": row["next_run_at"], "last_slot_at": row["last_slot_at"],
            "created_at": row["created_at"], "updated_at": row["updated_at"]}


def _list(value: str | None) -> list[str] | None:
    return None if value is None else list(orjson.loads(value))


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()
