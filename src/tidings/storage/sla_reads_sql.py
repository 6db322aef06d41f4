"""Read side of the sla stage in SQL: exception lists, exports, performance, digest contents.

Every query starts from ``sla_sql.scope(viewer, table)``, so a party reads only its own rows.
A party's list reads its index ``(tenant, party, kind, status, due_at)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, extract, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from tidings.sla import exceptions as sla_exceptions
from tidings.sla import parties
from tidings.sla import performance as sla_performance
from tidings.storage import tables_sla
from tidings.storage.engine import is_sqlite
from tidings.storage.sla_sql import scope
from tidings.storage.types import UTCDateTime

__all__ = ["DigestSection", "Page", "SqlSlaReads"]

EX = tables_sla.sla_exceptions
OB = tables_sla.sla_obligations
RT = tables_sla.sla_retailers
EXPORT_CHUNK = 1000
_COLUMNS = (EX.c.id, EX.c.retailer, EX.c.supplier, EX.c.order_id, EX.c.order_ref,
            EX.c.obligation, EX.c.kind, EX.c.status, EX.c.due_at, EX.c.opened_at,
            EX.c.closed_at, EX.c.met_at, EX.c.late_seconds)


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_offset: int | None


@dataclass(frozen=True)
class DigestSection:
    retailer: str
    name: str
    counts: dict[str, dict[str, int]]
    """obligation -> {"overdue": n, "warning": n}"""
    most_overdue: list[dict[str, Any]]


class SqlSlaReads:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = is_sqlite(engine)

    # -- exceptions -----------------------------------------------------------------------

    def exceptions(self, viewer: parties.Viewer, query: sla_exceptions.ExceptionQuery,
                   now: datetime) -> Page:
        stmt = (select(*_COLUMNS).where(*self._filters(viewer, query, now))
                .order_by(*self._order(query, now)).offset(query.offset)
                .limit(query.limit + 1))
        with self.engine.connect() as conn:
            rows = [_exception_json(r._mapping, now) for r in conn.execute(stmt)]
        more = len(rows) > query.limit
        return Page(rows[:query.limit], query.offset + query.limit if more else None)

    def exception(self, viewer: parties.Viewer, exception_id: int,
                  now: datetime) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(*_COLUMNS).where(EX.c.id == exception_id,
                                                       *scope(viewer, EX))).first()
        if row is None:
            raise parties.NotFound(f"exception {exception_id}")
        return _exception_json(row._mapping, now)

    def export(self, viewer: parties.Viewer, query: sla_exceptions.ExceptionQuery,
               now: datetime) -> Iterator[dict[str, Any]]:
        """Every matching exception (up to the query's limit), read in chunks."""
        base = select(*_COLUMNS).where(*self._filters(viewer, query, now)) \
            .order_by(*self._order(query, now))
        offset = 0
        while offset < query.limit:
            size = min(EXPORT_CHUNK, query.limit - offset)
            with self.engine.connect() as conn:
                rows = conn.execute(base.offset(offset).limit(size)).all()
            yield from (_exception_json(r._mapping, now) for r in rows)
            if len(rows) < size:
                return
            offset += size

    def _filters(self, viewer: parties.Viewer, query: sla_exceptions.ExceptionQuery,
                 now: datetime) -> list[ColumnElement[bool]]:
        conds = list(scope(viewer, EX))
        for column, value in ((EX.c.retailer, query.retailer), (EX.c.supplier, query.supplier),
                              (EX.c.obligation, query.obligation),
                              (EX.c.order_ref, query.order_ref)):
            if value is not None:
                conds.append(column == value)
        if query.kind != "all":
            conds.append(EX.c.kind == query.kind)
        if query.status != "all":
            conds.append(EX.c.status == query.status)
        earliest, latest = query.due_bounds(now)
        if latest is not None:
            conds.append(EX.c.due_at <= latest)
        if earliest is not None:
            conds.append(EX.c.due_at >= earliest)
        return conds

    def _order(self, query: sla_exceptions.ExceptionQuery, now: datetime) -> list[Any]:
        name, descending = query.sort.lstrip("-"), query.sort.startswith("-")
        if name == "lateness":
            # Most late first by default; "-lateness" puts the least late first.
            if query.status == "open":
                key: Any = EX.c.due_at
                return [key.desc(), EX.c.id.desc()] if descending else [key, EX.c.id]
            key = self._lateness(now)
            return [key, EX.c.id] if descending else [key.desc(), EX.c.id.desc()]
        column = EX.c.due_at if name == "due_at" else EX.c.opened_at
        return [column.desc(), EX.c.id.desc()] if descending else [column, EX.c.id]

    def _lateness(self, now: datetime) -> ColumnElement[Any]:
        end = func.coalesce(EX.c.met_at, literal(now, UTCDateTime()))
        if self._sqlite:
            return (func.julianday(end) - func.julianday(EX.c.due_at)) * 86400
        return extract("epoch", end - EX.c.due_at)

    # -- performance ----------------------------------------------------------------------

    def performance(self, viewer: parties.Viewer,
                    query: sla_performance.PerformanceQuery) -> list[dict[str, Any]]:
        met = OB.c.state == "met"
        on_time = and_(met, OB.c.late_seconds < 0)
        late_met = and_(met, OB.c.late_seconds >= 0)
        stmt = (select(OB.c.supplier, OB.c.retailer, OB.c.obligation, OB.c.due_week,
                       func.count().label("decided"),
                       func.sum(case((on_time, 1), else_=0)).label("on_time"),
                       func.sum(case((late_met, 1), else_=0)).label("met_late"),
                       func.sum(case((late_met, OB.c.late_seconds), else_=0.0))
                       .label("delay_sum"),
                       func.sum(case((OB.c.state == "open", 1), else_=0)).label("open_overdue"))
                .where(*self._performance_filters(viewer, query))
                .group_by(OB.c.supplier, OB.c.retailer, OB.c.obligation, OB.c.due_week)
                .order_by(OB.c.supplier, OB.c.retailer, OB.c.obligation, OB.c.due_week))
        with self.engine.connect() as conn:
            return [sla_performance.figures(r.supplier, r.retailer, r.obligation, r.due_week,
                                        int(r.decided), int(r.on_time), int(r.met_late),
                                        float(r.delay_sum or 0), int(r.open_overdue))
                    for r in conn.execute(stmt)]

    def _performance_filters(self, viewer: parties.Viewer,
                             query: sla_performance.PerformanceQuery) -> list[Any]:
        decided = (OB.c.state == "met") | and_(OB.c.state == "open", OB.c.stage == "overdue")
        conds: list[Any] = [*scope(viewer, OB), decided]
        for column, value in ((OB.c.retailer, query.retailer), (OB.c.supplier, query.supplier),
                              (OB.c.obligation, query.obligation)):
            if value is not None:
                conds.append(column == value)
        if query.from_week is not None:
            conds.append(OB.c.due_week >= query.from_week)
        if query.to_week is not None:
            conds.append(OB.c.due_week <= query.to_week)
        return conds

    # -- digests --------------------------------------------------------------------------

    def digest_sections(self, conn: Connection, tenant: str, supplier: str,
                        retailers: Sequence[str] | None, obligations: Sequence[str] | None,
                        top: int) -> list[DigestSection]:
        """A supplier's open exceptions per retailer: counts and the most overdue orders."""
        conds = [EX.c.tenant == tenant, EX.c.supplier == supplier, EX.c.status == "open"]
        if retailers is not None:
            conds.append(EX.c.retailer.in_(list(retailers)))
        if obligations is not None:
            conds.append(EX.c.obligation.in_(list(obligations)))
        counts = conn.execute(select(EX.c.retailer, EX.c.obligation, EX.c.kind,
                                     func.count().label("n"))
                              .where(*conds)
                              .group_by(EX.c.retailer, EX.c.obligation, EX.c.kind)).all()
        found = sorted({r.retailer for r in counts})
        names = dict(conn.execute(select(RT.c.retailer, RT.c.name).where(
            RT.c.tenant == tenant, RT.c.retailer.in_(found))).all()) if found else {}
        sections = []
        for retailer in found:
            worst = conn.execute(select(*_COLUMNS).where(
                *conds, EX.c.retailer == retailer, EX.c.kind == "overdue")
                .order_by(EX.c.due_at, EX.c.id).limit(top)).all()
            per: dict[str, dict[str, int]] = {}
            for row in counts:
                if row.retailer == retailer:
                    per.setdefault(row.obligation, {"overdue": 0, "warning": 0})[
                        row.kind] = int(row.n)
            sections.append(DigestSection(retailer, names.get(retailer, ""), per,
                                          [dict(w._mapping) for w in worst]))
        return sections


def _exception_json(row: Any, now: datetime) -> dict[str, Any]:
    out = dict(row)
    out["lateness_seconds"] = sla_exceptions.lateness_seconds(out, now)
    return out
