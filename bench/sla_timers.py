"""SLA deadline timers at scale: exceptions opened per second, and a supplier's list.

Run::

    .venv/bin/python bench/sla_timers.py --url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/sla_timers.py --url sqlite:////tmp/sla_bench.db

A fresh database (PostgreSQL: a new database next to the given one, dropped afterwards
unless ``--keep``; SQLite: the file is replaced) gets, by server-side bulk inserts
(``INSERT ... SELECT`` over ``generate_series`` / a recursive CTE):

- ``--orders`` open orders (default 1,000,000) of 50 retailers and ``--suppliers`` suppliers,
- one open ship obligation per order, already warned, whose deadlines fall
  ``--per-minute`` to a minute (default 10,000) from T0 on,
- its ``due`` timer, and its open warning exception.

Then the clock moves minute by minute through ``--minutes`` minutes of deadlines; each minute
``TimerLoop.drain`` fires what is due (``--workers`` threads, each with its own
connections, claiming with SKIP LOCKED on PostgreSQL). Reported: exceptions opened per second
(overall and the slowest minute) and whether each minute's 10,000 fit in the minute. Last, a
supplier's open overdue exceptions are listed through the service (page of 50, most late
first) for ``--samples`` random suppliers: p50 and p99 in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text

from tidings.clock import FakeClock
from tidings.sla import exceptions as sla_exceptions
from tidings.sla import parties
from tidings.sla.timers import TimerLoop
from tidings.storage import engine as engines
from tidings.storage import migrate, tables_sla
from tidings.storage.sla_reads_sql import SqlSlaReads
from tidings.storage.sla_rules_sql import SqlRuleBooks
from tidings.storage.sla_sql import SqlLifecycle

TENANT = "bench"
T0 = datetime(2026, 7, 6, 12, 0, tzinfo=UTC)
RETAILERS = 50

PG_FILL = """
INSERT INTO sla_orders (id, tenant, retailer, supplier, order_ref, status, details,
                        submitted_at, created_at, updated_at)
SELECT g, :tenant, 'r' || (g % {retailers}), 's' || (g % :suppliers), 'PO-' || g, 'submitted',
       '{{"order": {{"ship_method": "ground"}}}}', :created, :created, :created
FROM generate_series(1, :n) AS g;
INSERT INTO sla_obligations (id, tenant, retailer, supplier, order_id, obligation, rule_id,
                             met_by, state, stage, started_at, due_at, warn_at, due_week,
                             updated_at)
SELECT g, :tenant, 'r' || (g % {retailers}), 's' || (g % :suppliers), g, 'ship', 'ship',
       'order.shipped', 'open', 'warned', :created,
       :t0 + make_interval(secs => 1 + floor((g - 1) * 60.0 / :per_minute)),
       :t0 + make_interval(secs => 1 + floor((g - 1) * 60.0 / :per_minute)) - interval '1 hour',
       '2026-W28', :created
FROM generate_series(1, :n) AS g;
INSERT INTO sla_timers (obligation_id, kind, fire_at)
SELECT id, 'due', due_at FROM sla_obligations;
INSERT INTO sla_exceptions (tenant, retailer, supplier, order_id, order_ref, obligation_id,
                            obligation, kind, status, due_at, opened_at)
SELECT o.tenant, o.retailer, o.supplier, o.order_id, 'PO-' || o.order_id, o.id, 'ship',
       'warning', 'open', o.due_at, o.warn_at
FROM sla_obligations o;
SELECT setval(pg_get_serial_sequence('sla_orders', 'id'), :n);
SELECT setval(pg_get_serial_sequence('sla_obligations', 'id'), :n);
ANALYZE;
"""

SQLITE_TIME = "strftime('%Y-%m-%d %H:%M:%S', {base}, ({seconds}) || ' seconds') || '.000000'"
SQLITE_FILL = """
INSERT INTO sla_orders (id, tenant, retailer, supplier, order_ref, status, details,
                        submitted_at, created_at, updated_at)
WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :n)
SELECT x, :tenant, 'r' || (x % {retailers}), 's' || (x % :suppliers), 'PO-' || x, 'submitted',
       '{{"order": {{"ship_method": "ground"}}}}', :created, :created, :created FROM g;
INSERT INTO sla_obligations (id, tenant, retailer, supplier, order_id, obligation, rule_id,
                             met_by, state, stage, started_at, due_at, warn_at, due_week,
                             updated_at)
SELECT id, tenant, retailer, supplier, id, 'ship', 'ship', 'order.shipped', 'open', 'warned',
       :created, {due}, {warn}, '2026-W28', :created FROM sla_orders;
INSERT INTO sla_timers (obligation_id, kind, fire_at)
SELECT id, 'due', due_at FROM sla_obligations;
INSERT INTO sla_exceptions (tenant, retailer, supplier, order_id, order_ref, obligation_id,
                            obligation, kind, status, due_at, opened_at)
SELECT o.tenant, o.retailer, o.supplier, o.order_id, 'PO-' || o.order_id, o.id, 'ship',
       'warning', 'open', o.due_at, o.warn_at
FROM sla_obligations o;
ANALYZE;
"""


def fresh_database(url: str) -> tuple[str, Any]:
    """A new empty database for the run; returns its URL and a cleanup function."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return url, lambda: None
    name = f"tidings_sla_bench_{uuid.uuid4().hex[:8]}"
    admin = engines.create(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return url.rsplit("/", 1)[0] + "/" + name, drop


def fill(engine: Engine, n: int, suppliers: int, per_minute: int) -> float:
    started = time.perf_counter()
    naive = T0.replace(tzinfo=None)
    created = naive - timedelta(days=2)
    params: dict[str, Any] = {"tenant": TENANT, "n": n, "suppliers": suppliers,
                              "per_minute": per_minute, "created": created, "t0": naive}
    if engines.is_sqlite(engine):
        base = "'" + naive.strftime("%Y-%m-%d %H:%M:%S") + "'"
        seconds = f"1 + (id - 1) * 60 / {per_minute}"  # minute m: (m-1) min 1 s .. m min
        script = SQLITE_FILL.format(
            retailers=RETAILERS, due=SQLITE_TIME.format(base=base, seconds=seconds),
            warn=SQLITE_TIME.format(base=base, seconds=f"{seconds} - 3600"))
        params["created"] = created.strftime("%Y-%m-%d %H:%M:%S.000000")
    else:
        script = PG_FILL.format(retailers=RETAILERS)
    with engine.begin() as conn:
        for statement in filter(str.strip, script.split(";")):
            conn.execute(text(statement), {k: v for k, v in params.items()
                                           if f":{k}" in statement})
    return time.perf_counter() - started


def fire_minutes(lifecycle: SqlLifecycle, minutes: int, workers: int,
                 batch: int) -> list[dict[str, float]]:
    clock = FakeClock(T0)
    loops = [TimerLoop(lifecycle, clock, batch_size=batch) for _ in range(workers)]
    report = []
    for minute in range(1, minutes + 1):
        clock.set(T0 + timedelta(minutes=minute))
        counts: list[int] = []
        started = time.perf_counter()
        threads = [threading.Thread(target=lambda loop=loop: counts.append(loop.drain().overdue))
                   for loop in loops]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        opened = sum(counts)
        report.append({"minute": minute, "opened": opened, "seconds": round(elapsed, 3),
                       "per_second": round(opened / elapsed, 1)})
        print(f"  minute {minute}: {opened} exceptions in {elapsed:.2f} s "
              f"({opened / elapsed:,.0f}/s)", flush=True)
    return report


def list_latency(reads: SqlSlaReads, suppliers: int, samples: int,
                 now: datetime) -> dict[str, float]:
    rng = random.Random(7)
    query = sla_exceptions.ExceptionQuery(limit=50)
    timings, sizes = [], []
    for _ in range(samples):
        viewer = parties.Viewer.supplier(TENANT, f"s{rng.randrange(suppliers)}")
        started = time.perf_counter()
        page = reads.exceptions(viewer, query, now)
        timings.append((time.perf_counter() - started) * 1000)
        sizes.append(len(page.items))
    timings.sort()
    return {"samples": samples, "p50_ms": round(statistics.median(timings), 2),
            "p99_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 2),
            "max_ms": round(timings[-1], 2), "rows_per_page": statistics.median(sizes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="sqlite:////tmp/tidings_sla_bench.db")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--per-minute", type=int, default=10_000)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--suppliers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    url, cleanup = fresh_database(args.url)
    engine = engines.create(url, pool_size=max(4, args.workers * 2),
                            sqlite_synchronous="NORMAL")
    try:
        migrate.upgrade(engine)
        print(f"filling {args.orders:,} orders, obligations, timers, warnings ...", flush=True)
        fill_seconds = fill(engine, args.orders, args.suppliers, args.per_minute)
        print(f"  filled in {fill_seconds:.1f} s", flush=True)
        lifecycle = SqlLifecycle(engine, SqlRuleBooks(engine))
        print(f"firing {args.minutes} minutes of deadlines with {args.workers} worker(s):")
        minutes = fire_minutes(lifecycle, args.minutes, args.workers, args.batch)
        now = T0 + timedelta(minutes=args.minutes)
        with engine.connect() as conn:
            opened = conn.execute(select(func.count()).where(
                tables_sla.sla_exceptions.c.kind == "overdue")).scalar_one()
            timers_left = conn.execute(select(func.count()).select_from(
                tables_sla.sla_timers)).scalar_one()
        listing = list_latency(SqlSlaReads(engine), args.suppliers, args.samples, now)
        total_opened = sum(m["opened"] for m in minutes)
        total_seconds = sum(m["seconds"] for m in minutes)
        result = {
            "database": engine.dialect.name, "orders": args.orders,
            "per_minute": args.per_minute, "workers": args.workers, "batch": args.batch,
            "fill_seconds": round(fill_seconds, 1),
            "exceptions_opened": total_opened, "overdue_rows": opened,
            "timers_left": timers_left,
            "opened_per_second": round(total_opened / total_seconds, 1),
            "slowest_minute_per_second": min(m["per_second"] for m in minutes),
            "every_minute_kept_up": all(m["seconds"] < 60 for m in minutes),
            "supplier_list": listing}
        print(json.dumps(result, indent=2))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
        if total_opened != args.minutes * args.per_minute or opened != total_opened:
            sys.exit("the number of exceptions opened is not the number of deadlines passed")
    finally:
        engine.dispose()
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    main()
