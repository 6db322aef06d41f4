"""Insert many rows in one statement and learn their ids, in input order.

PostgreSQL answers ``INSERT ... RETURNING`` for a multi-row batch, and
SQLAlchemy keeps the ids in parameter order. SQLite cannot promise that
order for a multi-row ``VALUES``, so SQLAlchemy falls back to one statement
per row there, which costs more than the rest of an ingest. On SQLite every
transaction here is opened with ``BEGIN IMMEDIATE``
(:mod:`tidings.storage.engine`): the writer holds the database's only write
lock, so it can number the rows itself from ``max(id)`` and insert them with
one ``executemany``; no other writer can take those ids in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select

__all__ = ["insert_with_ids"]


def insert_with_ids(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` into ``table`` (an integer ``id`` key) and return their ids in order."""
    if not rows:
        return []
    if conn.dialect.name != "sqlite":
        return [int(i) for i in conn.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars()]
    if not conn.in_transaction():
        raise RuntimeError("insert_with_ids on SQLite needs the caller's BEGIN IMMEDIATE")
    base = int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())
    ids = list(range(base + 1, base + 1 + len(rows)))
    conn.execute(insert(table), [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
    return ids
