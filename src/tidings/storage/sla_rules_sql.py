"""Retailers' calendars and SLA rules in SQL, with a rule-book cache checked by revision.

Every change bumps ``sla_retailers.revision`` in the same transaction, so a process that has a
rule book cached reloads it on its next use (one primary-key read per use). The caller
re-evaluates open obligations after a change (``SqlLifecycle.reevaluate``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tidings.sla import rulebook
from tidings.storage import tables_sla
from tidings.storage.engine import is_sqlite

__all__ = ["SqlRuleBooks"]

log = logging.getLogger(__name__)
R = tables_sla.sla_retailers
RU = tables_sla.sla_rules


class SqlRuleBooks:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = is_sqlite(engine)
        self._cache: dict[tuple[str, str], rulebook.RuleBook] = {}
        self._lock = threading.Lock()

    # -- reading ----------------------------------------------------------------------------

    def get(self, conn: Connection, tenant: str, retailer: str) -> rulebook.RuleBook | None:
        """The retailer's rule book, or ``None`` when it has no calendar or rules at all."""
        row = conn.execute(select(R.c.revision, R.c.calendar).where(
            R.c.tenant == tenant, R.c.retailer == retailer)).first()
        if row is None:
            return None
        cached = self._cache.get((tenant, retailer))
        if cached is not None and cached.revision == row.revision:
            return cached
        docs = conn.execute(select(RU.c.rule_id, RU.c.definition).where(
            RU.c.tenant == tenant, RU.c.retailer == retailer).order_by(RU.c.rule_id)).all()
        try:
            book = rulebook.book_of(retailer, orjson.loads(row.calendar),
                                    [(d.rule_id, orjson.loads(d.definition)) for d in docs],
                                    row.revision)
        except rulebook.RuleBookError:
            log.exception("stored rule book of %s/%s is unusable", tenant, retailer)
            return None
        with self._lock:
            self._cache[(tenant, retailer)] = book
        return book

    def describe(self, tenant: str, retailer: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(R).where(R.c.tenant == tenant,
                                               R.c.retailer == retailer)).first()
            if row is None:
                return None
            rules = conn.execute(select(RU.c.rule_id, RU.c.definition, RU.c.updated_at).where(
                RU.c.tenant == tenant, RU.c.retailer == retailer).order_by(RU.c.rule_id)).all()
        return {"retailer": retailer, "name": row.name, "revision": row.revision,
                "calendar": orjson.loads(row.calendar), "updated_at": row.updated_at,
                "rules": [{"id": r.rule_id, **orjson.loads(r.definition),
                           "updated_at": r.updated_at} for r in rules]}

    def retailers(self, tenant: str) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(R.c.retailer).where(R.c.tenant == tenant)
                                     .order_by(R.c.retailer)).scalars())

    # -- writing (each bumps the revision) --------------------------------------------------

    def put_calendar(self, tenant: str, retailer: str, doc: Mapping[str, Any], now: datetime,
                     name: str | None = None) -> dict[str, Any]:
        normal = rulebook.calendar_to_json(rulebook.calendar_from_json(doc))
        with self.engine.begin() as conn:
            self._ensure(conn, tenant, retailer, now)
            values: dict[str, Any] = {"calendar": _dumps(normal), "updated_at": now,
                                      "revision": R.c.revision + 1}
            if name is not None:
                values["name"] = name
            conn.execute(update(R).where(R.c.tenant == tenant, R.c.retailer == retailer)
                         .values(**values))
        return normal

    def put_rule(self, tenant: str, retailer: str, rule_id: str, doc: Mapping[str, Any],
                 now: datetime) -> dict[str, Any]:
        rule = rulebook.rule_from_json(retailer, rule_id, doc)
        normal = rulebook.rule_to_json(rule)
        row = {"tenant": tenant, "retailer": retailer, "rule_id": rule_id,
               "obligation": rule.obligation.value, "definition": _dumps(normal),
               "updated_at": now}
        with self.engine.begin() as conn:
            self._ensure(conn, tenant, retailer, now)
            stmt = self._insert(RU).values(**row)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=[RU.c.tenant, RU.c.retailer, RU.c.rule_id],
                set_={"obligation": stmt.excluded.obligation,
                      "definition": stmt.excluded.definition,
                      "updated_at": stmt.excluded.updated_at}))
            self._bump(conn, tenant, retailer, now)
        return normal

    def delete_rule(self, tenant: str, retailer: str, rule_id: str, now: datetime) -> bool:
        with self.engine.begin() as conn:
            gone = conn.execute(delete(RU).where(RU.c.tenant == tenant, RU.c.retailer == retailer,
                                                 RU.c.rule_id == rule_id)).rowcount == 1
            if gone:
                self._bump(conn, tenant, retailer, now)
        return gone

    def _ensure(self, conn: Connection, tenant: str, retailer: str, now: datetime) -> None:
        stmt = self._insert(R).values(tenant=tenant, retailer=retailer,
                                      calendar=_dumps(rulebook.DEFAULT_CALENDAR),
                                      revision=0, updated_at=now)
        conn.execute(stmt.on_conflict_do_nothing(index_elements=[R.c.tenant, R.c.retailer]))

    def _bump(self, conn: Connection, tenant: str, retailer: str, now: datetime) -> None:
        conn.execute(update(R).where(R.c.tenant == tenant, R.c.retailer == retailer)
                     .values(revision=R.c.revision + 1, updated_at=now))

    def _insert(self, table: Any) -> Any:
        return sqlite.insert(table) if self._sqlite else postgresql.insert(table)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()
