"""Each source's status row: last run, totals, last error, next run.

Written by the source runner after every run (a poll, or a batch of queue
messages); read by ``tidings sources`` and ``GET /v1/sources``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update

from tidings.ingest.pipeline import Tally
from tidings.storage import tables_ingest

__all__ = ["MAX_ERROR_CHARS", "SourceStatus", "SqlSourceStatus"]

MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class SourceStatus:
    name: str
    kind: str
    tenant: str | None
    runs: int
    accepted: int
    duplicates: int
    dead_lettered: int
    last_run_at: datetime | None
    last_ok_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    next_run_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None
        return {"name": self.name, "type": self.kind, "tenant": self.tenant, "runs": self.runs,
                "accepted": self.accepted, "duplicates": self.duplicates,
                "dead_lettered": self.dead_lettered, "last_run_at": iso(self.last_run_at),
                "last_ok_at": iso(self.last_ok_at), "last_error": self.last_error,
                "last_error_at": iso(self.last_error_at), "next_run_at": iso(self.next_run_at)}


class SqlSourceStatus:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, name: str, kind: str, tenant: str | None, tally: Tally,
               error: str | None, now: datetime, next_run: datetime | None = None) -> None:
        s = tables_ingest.source_status
        values: dict[str, Any] = {
            "kind": kind, "tenant": tenant, "runs": s.c.runs + 1,
            "accepted": s.c.accepted + tally.accepted,
            "duplicates": s.c.duplicates + tally.duplicates,
            "dead_lettered": s.c.dead_lettered + tally.dead_lettered,
            "last_run_at": now, "next_run_at": next_run}
        if error is None:
            values["last_ok_at"] = now
        else:
            values.update(last_error=error[:MAX_ERROR_CHARS], last_error_at=now)
        with self.engine.begin() as conn:
            done = conn.execute(update(s).where(s.c.name == name).values(**values))
            if done.rowcount == 0:
                conn.execute(s.insert().values(name=name, kind=kind, tenant=tenant, runs=0,
                                               accepted=0, duplicates=0, dead_lettered=0))
                conn.execute(update(s).where(s.c.name == name).values(**values))

    def list(self, tenant: str | None = None) -> list[SourceStatus]:
        s = tables_ingest.source_status
        query = select(s).order_by(s.c.name)
        if tenant is not None:
            query = query.where(s.c.tenant == tenant)
        with self.engine.connect() as conn:
            return [SourceStatus(r.name, r.kind, r.tenant, r.runs, r.accepted, r.duplicates,
                                 r.dead_lettered, r.last_run_at, r.last_ok_at, r.last_error,
                                 r.last_error_at, r.next_run_at) for r in conn.execute(query)]
