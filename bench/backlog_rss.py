#!/usr/bin/env python3
"""Memory and throughput with a growing backlog: 20,000 to 1,000,000 queued messages.

    .venv/bin/python bench/backlog_rss.py            # backlog 20k, 100k, 300k, 1M (< 10 min)
    .venv/bin/python bench/backlog_rss.py --quick    # 20k and 100k
    .venv/bin/python bench/backlog_rss.py --steps 20000 --fresh 20000   # bench/e2e.py's load
    .venv/bin/python bench/backlog_rss.py --quick --arena-max 2         # MALLOC_ARENA_MAX=2

One fresh project and SQLite database (bench/e2e.py's helpers, imported, not
copied), SMTP to Debian's smtp-sink. **The backlog is bulk-inserted**: a real
message row, rendered by the API from an order event, is copied inside SQLite
(``INSERT ... SELECT`` over a counter, 50,000 rows a transaction), with its
timeline row, as ``queued`` and due one day from now, so it sits in the queue
like a peak day's backlog and the workers never drain it. Only the last events
arrive over HTTP: at each step the API and 2 worker processes are started
fresh on the grown database, 2,000 order events due now are posted (batches of
100, 4 clients) and must be delivered through the sink past the backlog.

Per step: VmRSS after start-up (idle) and VmRSS / VmHWM (peak) at the end, of
the API and of each worker; events/s accepted (first POST to last 202) and
emails/s delivered (first POST to last SMTP acceptance) for the 2,000; engine
CPU (api + workers) per message, which the shared machine disturbs less than
the rates; the database size. The JSON also has RssAnon/RssFile and the number
of SQLite connections each process holds. A table is printed and JSON written
to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import e2e

STEPS = (20_000, 100_000, 300_000, 1_000_000)
QUICK_STEPS = (20_000, 100_000)
FRESH = 2_000  # events posted over HTTP at each step
SEED = 100  # events posted once, to get real rendered rows to copy
CHUNK = 50_000  # rows per bulk-insert transaction
WORKERS = 2
SETTLE_S = 3.0  # the processes import, connect and go idle before the measurement
_event_offset = 0
_make_event = e2e.event


def _offset_event(i: int) -> dict[str, Any]:
    return _make_event(i + _event_offset)


@contextmanager
def events_from(offset: int) -> Iterator[None]:
    """e2e.post_all numbers its events from 0; each step needs order ids of its own."""
    global _event_offset
    _event_offset, e2e.event = offset, _offset_event
    try:
        yield
    finally:
        e2e.event = _make_event


def proc_status_mb(pid: int, field: str) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def rss(engine: e2e.Engine, field: str) -> list[float]:
    return [proc_status_mb(p.pid, field) for p in engine.procs]


def db_handles(pid: int, db_file: Path) -> int:
    """Open SQLite connections of a process (file descriptors on the database file)."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd) == str(db_file)
        except OSError:
            continue
    return count


def memory_kinds(pid: int) -> dict[str, float]:
    """RssAnon / RssFile / RssShmem in MB (the SQLite WAL index is shared memory)."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssFile:", "RssShmem:")):
                out[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
    return out


def bulk_insert(db: Any, template_id: int, start: int, count: int, due: datetime) -> None:
    """``count`` queued copies of message ``template_id`` (and its first timeline row),
    dedupe keys ``backlog:<n>`` from ``start``, due at ``due``; one transaction a chunk."""
    with db.connect() as conn:
        columns = [r[1] for r in conn.execute(text("PRAGMA table_info(messages)"))]
    override = {
        "id": None, "dedupe_key": "'backlog:' || n",
        "message_id_header": "'<backlog.' || n || '@bench.tidings>'",
        "state": "'queued'", "due_at": ":due", "created_at": ":now", "updated_at": ":now",
        "expires_at": "NULL", "attempts": "0", "leased_by": "NULL", "lease_until": "NULL",
        "sent_at": "NULL", "last_error": "NULL", "provider_response": "NULL",
        "provider_message_id": "NULL",
    }
    names = [c for c in columns if c != "id"]
    values = [override.get(c) or f"t.{c}" for c in names]
    stored = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite DateTime text, naive UTC
    stamp = {"due": due.astimezone(UTC).strftime(stored),
             "now": datetime.now(UTC).strftime(stored)}
    for first in range(start, start + count, CHUNK):
        last = min(first + CHUNK, start + count) - 1
        with db.begin() as conn:
            before = conn.execute(text("SELECT coalesce(max(id), 0) FROM messages")).scalar_one()
            conn.execute(text(
                "WITH RECURSIVE seq(n) AS (SELECT :first UNION ALL SELECT n + 1 FROM seq "
                "WHERE n < :last) "
                f"INSERT INTO messages ({', '.join(names)}) "
                f"SELECT {', '.join(values)} FROM seq, messages t WHERE t.id = :template"),
                {"first": first, "last": last, "template": template_id, **stamp})
            conn.execute(text(
                "INSERT INTO message_events (message_id, at, kind, from_state, to_state, "
                "reason, response, actor) SELECT m.id, :now, e.kind, e.from_state, "
                "'queued', e.reason, e.response, e.actor FROM messages m, "
                "(SELECT * FROM message_events WHERE message_id = :template "
                " ORDER BY id LIMIT 1) e WHERE m.id > :before"),
                {"template": template_id, "before": before, **stamp})


def wait_delivered(db: Any, first_id: int, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        with db.connect() as conn:
            done = conn.execute(text("SELECT count(*) FROM messages WHERE id >= :first AND "
                                     "state IN ('sent', 'failed', 'bounced')"),
                                {"first": first_id}).scalar_one()
        if done >= n:
            return
        time.sleep(0.1)
    raise RuntimeError(f"only {done} of {n} fresh messages done after {timeout}s")


def run_step(folder: Path, db_url: str, db: Any, key: str, backlog: int, offset: int,
             sink: e2e.Sink, fresh: int = FRESH) -> dict[str, Any]:
    engine = e2e.Engine(folder, db_url, e2e.free_port())
    try:
        engine.start_api()
        engine.start_workers(WORKERS)
        time.sleep(SETTLE_S)
        idle = rss(engine, "VmRSS")
        cpu0 = engine.cpu_by_process()
        t0 = time.time()
        with events_from(offset):
            accepted = e2e.post_all(engine.port, key, fresh)
        t_accepted = time.time()
        first = min(accepted)
        wait_delivered(db, first, len(accepted), timeout=300)
        cpu = [round(b - a, 2) for a, b in zip(cpu0, engine.cpu_by_process(), strict=True)]
        now_rss, hwm = rss(engine, "VmRSS"), rss(engine, "VmHWM")
        kinds = [memory_kinds(p.pid) for p in engine.procs]
        handles = [db_handles(p.pid, folder / "tidings.db") for p in engine.procs]
    finally:
        engine.stop()
    with db.connect() as conn:
        sent = conn.execute(text("SELECT max(sent_at), count(*) FROM messages "
                                 "WHERE id >= :first AND state = 'sent'"),
                            {"first": first}).one()
        waiting = conn.execute(text("SELECT count(*) FROM messages WHERE state = 'queued'")
                               ).scalar_one()
    last = datetime.fromisoformat(str(sent[0])).replace(tzinfo=UTC).timestamp()
    names = ["api", *(f"worker{i}" for i in range(WORKERS))]
    result = {
        "backlog": backlog, "queued_after": waiting, "fresh_events": fresh,
        "fresh_messages": len(accepted), "fresh_sent": sent[1],
        "events_per_s_accepted": round(fresh / (t_accepted - t0), 1),
        "emails_per_s_delivered": round(len(accepted) / (last - t0), 1),
        "rss_idle_mb": dict(zip(names, idle, strict=True)),
        "rss_end_mb": dict(zip(names, now_rss, strict=True)),
        "hwm_mb": dict(zip(names, hwm, strict=True)),
        "rss_kinds_end_mb": dict(zip(names, kinds, strict=True)),
        "sqlite_connections": dict(zip(names, handles, strict=True)),
        "cpu_s": dict(zip(names, cpu, strict=True)),
        "engine_cpu_us_per_msg": round(sum(cpu) / len(accepted) * 1e6),
        "db_mb": round((folder / "tidings.db").stat().st_size / 2**20),
    }
    print(json.dumps(result), flush=True)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="backlog steps 20,000 and 100,000")
    ap.add_argument("--steps", default=None, help="comma list of backlog sizes")
    ap.add_argument("--fresh", type=int, default=FRESH, help="events posted at each step")
    ap.add_argument("--arena-max", type=int, default=None, metavar="N",
                    help="run the engine processes with MALLOC_ARENA_MAX=N")
    ap.add_argument("--keep", action="store_true", help="keep the project folder")
    a = ap.parse_args()
    if a.arena_max:
        os.environ["MALLOC_ARENA_MAX"] = str(a.arena_max)  # e2e.Engine.env copies os.environ
    steps = [int(s) for s in a.steps.split(",")] if a.steps else (
        QUICK_STEPS if a.quick else STEPS)
    started = datetime.now(UTC)
    e2e.RESULTS.mkdir(parents=True, exist_ok=True)
    sink = e2e.Sink()
    folder = Path(tempfile.mkdtemp(prefix="tidings-backlog-"))
    report: dict[str, Any] = {
        "started": started.isoformat(),
        "machine": {"ncpu": os.cpu_count(), "loadavg": e2e.loadavg()},
        "fresh_events": a.fresh, "workers": WORKERS, "db": "sqlite",
        "malloc_arena_max": a.arena_max,
        "backlog": "bulk-inserted copies of a rendered message, due in one day; "
                   "only the fresh events arrive over HTTP",
        "steps": []}
    try:
        e2e.make_project(folder, sink.port)
        db_url, _ = e2e.make_db("sqlite", folder)
        seeder = e2e.Engine(folder, db_url, e2e.free_port())
        subprocess.run([*e2e.TIDINGS, "db", "upgrade"], env=seeder.env(), check=True,
                       stdout=subprocess.DEVNULL)
        key = e2e.create_key(seeder)
        db = create_engine(db_url)
        try:  # a few real events through the whole pipeline: the rows to copy
            seeder.start_api()
            seeder.start_workers(1)
            with events_from(10_000_000):
                seeded = e2e.post_all(seeder.port, key, SEED)
            wait_delivered(db, min(seeded), len(seeded), timeout=120)
        finally:
            seeder.stop()
        template = min(seeded)
        due = datetime.now(UTC) + timedelta(days=1)
        queued = 0
        for step, backlog in enumerate(steps):
            t = time.monotonic()
            bulk_insert(db, template, queued, backlog - queued, due)
            queued = backlog
            print(f"backlog {backlog:,}: bulk-inserted in {time.monotonic() - t:.0f}s",
                  flush=True)
            report["steps"].append(run_step(folder, db_url, db, key, backlog,
                                            (step + 1) * 1_000_000, sink, a.fresh))
        db.dispose()
    finally:
        sink.stop()
        if not a.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept {folder}")
    path = e2e.RESULTS / f"backlog-rss-{started:%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(report, indent=2))
    print_table(report)
    print(f"\nwrote {path}")
    return 0


def print_table(report: dict[str, Any]) -> None:
    print(f"\n{report['fresh_events']:,} fresh events over HTTP per step, "
          f"{report['workers']} worker processes, SQLite; backlog bulk-inserted, due in a day; "
          f"MALLOC_ARENA_MAX={report.get('malloc_arena_max') or 'unset'}")
    print("\n| queued backlog | events/s accepted | emails/s delivered | engine CPU us/msg "
          "| RSS idle MB (api, w0, w1) | RSS end MB | peak RSS (VmHWM) MB | db MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in report["steps"]:
        def row(d: dict[str, float]) -> str:
            return ", ".join(f"{v:.0f}" for v in d.values())
        print(f"| {r['backlog']:,} | {r['events_per_s_accepted']} "
              f"| {r['emails_per_s_delivered']} | {r['engine_cpu_us_per_msg']} "
              f"| {row(r['rss_idle_mb'])} "
              f"| {row(r['rss_end_mb'])} | {row(r['hwm_mb'])} | {r['db_mb']:,} |")


if __name__ == "__main__":
    sys.exit(main())
