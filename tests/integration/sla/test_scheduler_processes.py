"""Two scheduler processes on PostgreSQL over a simulated day: every slot fires exactly once.

Each process has its own runtime, engine and connections; they tick in lock-step (a barrier
per simulated ten minutes) so that both look at the same due subscriptions at the same
time. The expected slots come from ``schedule.next_runs`` (table-tested on its own); what is
under test is that concurrent schedulers neither lose nor double one.
"""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests.helpers import TENANT, make_runtime
from tests.integration.sla import scheduler_worker
from tidings.sla import schedule
from tidings.sla.parties import Viewer
from tidings.storage import engine as engines
from tidings.storage import tables, tables_sla

START = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)  # Berlin springs forward at 01:00 UTC
STEP = timedelta(minutes=10)  # slots between ticks fire at the next tick
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney")
DAYS = (["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ["sun"], ["mon", "sun"])


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("_pg_database")
    engine = engines.create(url)
    names = ", ".join(t.name for t in reversed(tables.metadata.sorted_tables))
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


def test_two_scheduler_processes_fire_every_slot_once(project_dir: Path, pg_url: str) -> None:
    runtime = make_runtime(project_dir, pg_url)
    service, operator = runtime.sla.service, Viewer.operator(TENANT)
    service.clock = type("Fixed", (), {"now": staticmethod(lambda: START)})()
    subs = []
    for n in range(120):
        at = f"{(n * 7) % 24:02d}:{(n * 5) % 60:02d}"
        sub = service.subscribe(operator, {
            "email": f"user{n}@socks.example", "days": DAYS[n % 3], "time": at,
            "timezone": ZONES[n % len(ZONES)], "send_empty": True}, supplier="bright-socks")
        subs.append(sub)
    steps = int(timedelta(days=1) / STEP)
    expected = {(s["id"], schedule.slot_key(s["cron"], s["timezone"], fire))
                for s in subs
                for fire in schedule.next_runs(s["cron"], s["timezone"], START, 3)
                if fire <= START + STEP * steps}

    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [ctx.Process(target=scheduler_worker.run, args=(
        f"scheduler-{i}", str(project_dir), pg_url, START, steps, STEP, barrier, results))
        for i in range(2)]
    for worker in workers:
        worker.start()
    created = dict(results.get(timeout=240) for _ in workers)
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0

    fired = created["scheduler-0"] + created["scheduler-1"]
    assert len(fired) == len(set(fired))          # no slot fired by both
    assert set(fired) == expected                 # and none lost
    assert created["scheduler-0"] and created["scheduler-1"]  # both did share the work
    runs, messages = tables_sla.sla_digest_runs, tables.messages
    with runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(runs)).scalar() == len(expected)
        assert conn.execute(select(func.count()).where(runs.c.state == "sent")).scalar() == \
            len(expected)
        assert conn.execute(select(func.count()).where(
            messages.c.message_type == "sla.digest")).scalar() == len(expected)
    runtime.close()
