"""Insert many rows in one statement and learn their ids, in input order.

PostgreSQL answers ``INSERT ... RETURNING`` for a multi-row batch, and
SQLAlchemy keeps the ids in parameter order. SQLite cannot promise that
order for a multi-row ``VALUES``, so SQLAlchemy falls back to one statement
per row there, which costs more than the rest of an ingest. On SQLite every
transaction here is opened with ``BEGIN IMMEDIATE``
(:mod:`tidings.storage.engine`): the writer holds the database's only write
lock, so it can number the rows itself from ``max(id)``; no other writer can
take those ids in between.

On SQLite, rows go in as multi-row ``VALUES`` statements (:func:`insert_rows`),
not an ``executemany``: the sqlite3 module lets go of the GIL around every
row's step, and each time it wants the GIL back it may wait a whole switch
interval (5 ms) for a busy thread of the same process. With a hundred rows that
turned a sub-millisecond insert into tens of milliseconds, all of it spent
holding the database's write lock that every other process was waiting for.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select

__all__ = ["insert_rows", "insert_with_ids"]

# SQLite allows 32,766 parameters a statement (3.32 and later)
_SQLITE_MAX_PARAMS = 32_000


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
    insert_rows(conn, table, [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
    return ids


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys): few statements on SQLite, executemany else."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), rows)
        return
    keys = tuple(rows[0])
    convert = [table.c[k].type.bind_processor(conn.dialect) for k in keys]
    step = max(1, _SQLITE_MAX_PARAMS // len(keys))
    for start in range(0, len(rows), step):
        chunk = rows[start:start + step]
        params = [value if fn is None else fn(value)
                  for row in chunk for value, fn in zip((row[k] for k in keys), convert,
                                                        strict=True)]
        conn.exec_driver_sql(_values_sql(table.name, keys, len(chunk)), tuple(params))


@functools.lru_cache(maxsize=256)
def _values_sql(table: str, keys: tuple[str, ...], count: int) -> str:
    """``INSERT INTO "t" ("a", "b") VALUES (?, ?), (?, ?)`` for ``count`` rows."""
    columns = ", ".join(f'"{k}"' for k in keys)
    one = "(" + ", ".join("?" * len(keys)) + ")"
    return f'INSERT INTO "{table}" ({columns}) VALUES ' + ", ".join([one] * count)
