"""Create engines whose transactions suit the outbox.

SQLite: WAL journal, ``synchronous=FULL`` by default (a commit survives a power
loss, not only a process crash; ``NORMAL`` trades that for speed), a busy timeout,
and every transaction opened with ``BEGIN IMMEDIATE`` so that two writers
never deadlock on a lock upgrade. pysqlite's own transaction handling is
switched off for that, as SQLAlchemy's documentation describes. Reads that
never write go through :func:`reading`: their transactions open with a plain
``BEGIN`` and, in WAL mode, neither wait for nor hold up the single writer.

PostgreSQL: psycopg 3, READ COMMITTED; claims use ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool

__all__ = ["BUSY_TIMEOUT_MS", "create", "is_sqlite", "reading"]

BUSY_TIMEOUT_MS = 30_000


def create(url: str, *, pool_size: int = 8, sqlite_synchronous: str = "FULL") -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        return _sqlite(url, sqlite_synchronous)
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


_READ_ONLY = "tidings_read_only"


def reading(engine: Engine) -> Engine:
    """The same engine and pool for transactions that only read.

    On SQLite they begin with a deferred ``BEGIN``: a snapshot, not the write lock.
    A write attempted through it may fail with ``SQLITE_BUSY`` instead of waiting,
    so only reads belong here. Other databases ignore the option.
    """
    return engine.execution_options(**{_READ_ONLY: True})


def _sqlite(url: str, synchronous: str) -> Engine:
    if synchronous.upper() not in {"FULL", "NORMAL", "EXTRA"}:
        raise ValueError(f"sqlite synchronous must be FULL, NORMAL or EXTRA, not {synchronous!r}")
    engine = create_engine(url, poolclass=QueuePool, pool_size=8, max_overflow=16,
                           connect_args={"check_same_thread": False,
                                         "timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
