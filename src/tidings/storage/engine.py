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

import random
import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool

__all__ = ["BUSY_TIMEOUT_MS", "begin_immediate", "create", "is_sqlite", "reading"]

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
        raw = conn.connection.driver_connection
        if conn.get_execution_options().get(_READ_ONLY, False):
            raw.execute("BEGIN")
        else:
            begin_immediate(raw)

    return engine


_FIRST_WAIT_S = 0.0002
_LONGEST_WAIT_S = 0.002


def begin_immediate(raw: sqlite3.Connection,
                    timeout_s: float = BUSY_TIMEOUT_MS / 1000) -> None:
    """``BEGIN IMMEDIATE``, waiting for the write lock in short steps.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 ... 100 ms between
    tries, so a writer that finds the lock taken often sleeps long after it was
    freed: with the API and several dispatchers writing, dispatchers spent most
    of their time there. Here the busy timeout is off for this one statement and
    the lock is tried again every 0.2 to 2 ms (with jitter), up to the same
    timeout; then SQLite's ``database is locked`` error is raised as before.
    """
    raw.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + timeout_s
        wait = _FIRST_WAIT_S
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorcode", sqlite3.SQLITE_BUSY) != sqlite3.SQLITE_BUSY \
                        or time.monotonic() >= deadline:
                    raise
            time.sleep(wait * (0.5 + random.random()))  # jitter: waiters do not retry in step
            wait = min(wait * 2, _LONGEST_WAIT_S)
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
