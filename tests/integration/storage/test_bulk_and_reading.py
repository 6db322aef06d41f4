"""Bulk inserts learn their ids in input order; SQLite reads do not take the write lock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import select

from tidings.storage import engine as engines
from tidings.storage import tables
from tidings.storage.bulk import insert_with_ids

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _rows(start: int, n: int) -> list[dict[str, object]]:
    return [{"tenant": "acme", "type": "order.confirmed", "external_id": f"SO-{i}",
             "source": "http", "payload": b"{}", "received_at": NOW}
            for i in range(start, start + n)]


def test_ids_come_back_in_input_order_across_batches(db_url: str) -> None:
    engine = engines.create(db_url)
    try:
        e = tables.events
        with engine.begin() as conn:
            first = insert_with_ids(conn, e, _rows(0, 250))
        with engine.begin() as conn:
            # the top id is free again (SQLite may hand it out again, as its rowids do)
            conn.execute(e.delete().where(e.c.id == first[-1]))
            second = insert_with_ids(conn, e, _rows(250, 7))
            assert insert_with_ids(conn, e, []) == []
        assert len(set(first[:-1] + second)) == 256
        with engine.connect() as conn:
            found = dict(conn.execute(select(e.c.id, e.c.external_id)).all())
        for i, ident in enumerate(first[:-1]):
            assert found[ident] == f"SO-{i}"
        for i, ident in enumerate(second):
            assert found[ident] == f"SO-{250 + i}"
    finally:
        engine.dispose()


def test_sqlite_reader_does_not_wait_for_the_writer(tmp_path: object) -> None:
    engine = engines.create(f"sqlite:///{tmp_path}/t.db")
    try:
        tables.metadata.create_all(engine)
        read: list[int] = []

        def count() -> None:
            with engines.reading(engine).connect() as conn:
                read.append(conn.execute(select(tables.events.c.id)).all().__len__())

        with engine.begin() as writer:  # BEGIN IMMEDIATE: holds the write lock
            writer.execute(tables.events.insert(), _rows(0, 3))
            reader = threading.Thread(target=count)
            reader.start()
            reader.join(5.0)
            assert not reader.is_alive(), "the read waited for the write lock"
            assert read == [0]  # the uncommitted rows are not seen
            blocked = threading.Thread(target=lambda: _write_with(engine))
            blocked.start()
            blocked.join(0.5)
            assert blocked.is_alive(), "a second writer must wait for the first"
        blocked.join(10.0)
        assert not blocked.is_alive()
    finally:
        engine.dispose()


def _write_with(engine: object) -> None:
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(tables.events.insert(), _rows(10, 1))


def test_sqlite_idle_claim_does_not_wait_for_the_writer(tmp_path: object) -> None:
    from tidings.storage.outbox_sql import SqlOutbox

    engine = engines.create(f"sqlite:///{tmp_path}/t.db")
    try:
        tables.metadata.create_all(engine)
        outbox = SqlOutbox(engine)
        claimed: list[object] = []
        with engine.begin() as writer:  # another process is committing a batch
            writer.execute(tables.events.insert(), _rows(0, 1))
            poll = threading.Thread(target=lambda: claimed.append(
                outbox.claim("sink", "w1", 100, NOW)))
            poll.start()
            poll.join(5.0)
            assert not poll.is_alive(), "an idle claim waited for the write lock"
        assert claimed == [[]]
    finally:
        engine.dispose()


def test_begin_immediate_takes_the_lock_soon_after_it_is_freed(tmp_path: object) -> None:
    import sqlite3
    import time

    path = f"{tmp_path}/lock.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode=WAL")
    waiter = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.15, lambda: holder.execute("COMMIT")).start()
    started = time.monotonic()
    engines.begin_immediate(waiter)
    waited = time.monotonic() - started
    waiter.execute("COMMIT")
    # SQLite's own handler would still be asleep here (its steps reach 25 ms by then)
    assert 0.15 <= waited < 0.15 + 0.02, waited
    assert waiter.execute("PRAGMA busy_timeout").fetchone() == (engines.BUSY_TIMEOUT_MS,)

    holder.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    try:
        engines.begin_immediate(waiter, timeout_s=0.1)
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
    else:
        raise AssertionError("the lock was never free")
    assert time.monotonic() - started < 0.5
    assert waiter.execute("PRAGMA busy_timeout").fetchone() == (engines.BUSY_TIMEOUT_MS,)
    holder.execute("ROLLBACK")
    holder.close()
    waiter.close()


def test_insert_rows_converts_types_and_uses_few_statements(db_url: str) -> None:
    from sqlalchemy import event

    from tidings.storage.bulk import insert_rows

    engine = engines.create(db_url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_a: statements.append(sql) if "INSERT" in sql else None)
    try:
        with engine.begin() as conn:
            insert_rows(conn, tables.events, _rows(0, 12_000))
        if engines.is_sqlite(engine):
            assert len(statements) == 3  # 12,000 rows of 6 values: 5,333 rows a statement
        e = tables.events
        with engine.connect() as conn:
            got = conn.execute(select(e.c.external_id, e.c.received_at).order_by(e.c.id)).all()
        assert [r.external_id for r in got] == [f"SO-{i}" for i in range(12_000)]
        assert {r.received_at for r in got} == {NOW}
    finally:
        engine.dispose()
