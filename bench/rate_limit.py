#!/usr/bin/env python3
"""Rate limit across processes: three ``tidings worker`` processes, one provider at N/s.

    .venv/bin/python bench/rate_limit.py                   # PostgreSQL, bucket in the database
    .venv/bin/python bench/rate_limit.py --redis           # PostgreSQL, bucket in Redis
    .venv/bin/python bench/rate_limit.py --db sqlite       # SQLite file, bucket in the database

A fresh project whose capture provider is limited to ``--rate`` messages per
second gets a backlog larger than the run can drain, due in the far future;
``--processes`` worker processes (``--workers`` dispatcher threads each) start,
and once every one says it is running the backlog is made due at once. The
measured rate is the number of messages the provider was handed (the capture
provider's ``captured_at``: the moment of the vendor call) in a steady window
(from ``--warmup`` seconds after the release, for ``--window`` seconds) divided
by the window; the one-second burst the bucket holds at the start falls in the
warm-up. The run passes when the measured rate is within 10% of the limit and
every process sent some of the messages.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tidings.outbox.messages import NewMessage  # noqa: E402
from tidings.project import scaffold  # noqa: E402
from tidings.storage import engine as engines  # noqa: E402
from tidings.storage import migrate, tables  # noqa: E402
from tidings.storage.outbox_sql import SqlOutbox  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"
INSERT_CHUNK = 1000
TOLERANCE = 0.10


def make_project(folder: Path, rate: float, bulk: int) -> None:
    scaffold.write(folder)
    path = folder / "tidings.toml"
    text_ = path.read_text()
    marker = 'retry_max_interval = "01:00:00"\n'
    assert marker in text_
    path.write_text(text_.replace(marker, marker + f"rate_per_second = {rate}\n", 1)
                    .replace("bulk_size = 100", f"bulk_size = {bulk}", 1))


def make_database(kind: str, folder: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}", None
    name = f"tidings_rate_{uuid.uuid4().hex[:8]}"
    admin = engines.create(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name, name


def drop_database(name: str | None) -> None:
    if name is None:
        return
    admin = engines.create(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def backlog(url: str, count: int) -> None:
    """``count`` messages for the capture provider, due in a year (released later)."""
    engine = engines.create(url)
    migrate.upgrade(engine)
    outbox = SqlOutbox(engine)
    now = datetime.now(UTC) + timedelta(days=365)
    for start in range(0, count, INSERT_CHUNK):
        batch = [NewMessage(
            dedupe_key=f"bench-{i}", channel="email", provider="capture",
            recipient=f"c{i}@example.com", to=[f"c{i}@example.com"],
            sender="Bench <bench@acme.example>", subject=f"m{i}", body_text="rate limit bench",
            message_id_header=f"<bench-{i}@acme.example>", due_at=now,
            expires_at=now + timedelta(days=1))
            for i in range(start, min(count, start + INSERT_CHUNK))]
        with engine.begin() as conn:
            outbox.insert(conn, "acme", None, batch, now)
    engine.dispose()


def release(url: str) -> datetime:
    """Make the whole backlog due now; returns that moment."""
    engine = engines.create(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(tables.messages.update().values(due_at=now))
    engine.dispose()
    return now


def wait_until_running(procs: list[subprocess.Popen[bytes]], timeout_seconds: float) -> None:
    deadline = time.monotonic() + timeout_seconds
    for proc in procs:
        assert proc.stdout is not None
        line = b""
        while b"worker running" not in line:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("a worker did not start; see worker-*.log")
            line = proc.stdout.readline()


def start_workers(folder: Path, url: str, processes: int, workers: int,
                  redis: bool) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "TIDINGS_PROJECT_DIR": str(folder), "TIDINGS_DATABASE_URL": url,
           "TIDINGS_LOG_LEVEL": "warning", "TIDINGS_POLL_INTERVAL_SECONDS": "0.2"}
    if redis:
        env["TIDINGS_REDIS_URL"] = REDIS_URL
    return [subprocess.Popen([sys.executable, "-m", "tidings", "worker", "--workers",
                              str(workers)], env=env, stdout=subprocess.PIPE,
                             stderr=open(folder / f"worker-{i}.log", "wb"))
            for i in range(processes)]


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)


@dataclass
class Result:
    rate: float
    in_window: int
    total_sent: int
    per_process: dict[str, int]
    per_second: list[int]


def measure(url: str, first: datetime, warmup: float, window: float) -> Result:
    engine = engines.create(url)
    m, e, c = tables.messages, tables.message_events, tables.captures
    with engine.connect() as conn:
        start, end = first + timedelta(seconds=warmup), first + timedelta(seconds=warmup + window)
        in_window = conn.execute(select(func.count()).where(
            c.c.captured_at >= start, c.c.captured_at < end)).scalar_one()
        total = conn.execute(select(func.count()).where(m.c.state == "sent")).scalar_one()
        stamps = conn.execute(select(c.c.captured_at)).scalars()
        seconds: dict[int, int] = {}
        for stamp in stamps:
            second = int((stamp - first).total_seconds())
            seconds[second] = seconds.get(second, 0) + 1
        by_worker = conn.execute(
            select(e.c.actor, func.count()).where(e.c.to_state == "sent")
            .group_by(e.c.actor)).all()
    engine.dispose()
    processes: dict[str, int] = {}
    for actor, n in by_worker:
        process = ":".join(str(actor).split(":")[:2])
        processes[process] = processes.get(process, 0) + n
    return Result(in_window / window, in_window, total, processes,
                  [seconds.get(i, 0) for i in range(max(seconds, default=0) + 1)])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=50.0, help="the provider's limit, msgs/s")
    ap.add_argument("--processes", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2, help="dispatcher threads per process")
    ap.add_argument("--bulk", type=int, default=100, help="the provider's bulk size")
    ap.add_argument("--warmup", type=float, default=4.0)
    ap.add_argument("--window", type=float, default=12.0)
    ap.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument("--redis", action="store_true", help="keep the bucket in Redis")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tidings-rate-"))
    make_project(folder / "project", args.rate, args.bulk)
    url, dbname = make_database(args.db, folder)
    try:
        count = int(args.rate * (args.warmup + args.window + 10))
        backlog(url, count)
        procs = start_workers(folder / "project", url, args.processes, args.workers, args.redis)
        try:
            wait_until_running(procs, 180)
            released = release(url)
            time.sleep(args.warmup + args.window + 1)
        finally:
            stop(procs)
        result = measure(url, released, args.warmup, args.window)
    finally:
        drop_database(dbname)
    rate = result.rate
    error = (rate - args.rate) / args.rate
    store = "redis" if args.redis else args.db
    print(f"limit {args.rate:g}/s, {args.processes} processes x {args.workers} threads, "
          f"database {args.db}, bucket in {store}")
    print(f"measured {rate:.2f}/s over {args.window:g} s ({result.in_window} messages), "
          f"{error:+.1%} off the limit; {result.total_sent} sent in all")
    print(f"per process: {result.per_process}")
    print(f"sent per second from the release: {result.per_second}")
    busy = [n for n in result.per_process.values() if n]
    ok = abs(error) <= TOLERANCE and len(busy) == args.processes
    print("PASS" if ok else f"FAIL (worker logs in {folder / 'project'})")
    if ok:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
