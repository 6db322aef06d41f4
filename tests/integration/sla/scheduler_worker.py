"""One digest scheduler process for ``test_scheduler_processes``: its own runtime, engine and
connections, ticking in lock-step with its peers over a simulated day."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.helpers import make_runtime
from tidings.clock import FakeClock

BATCH_SIZE = 5  # small, so that peers interleave within one tick


def run(name: str, project_dir: str, db_url: str, start: datetime, steps: int,
        step: timedelta, barrier: Any, results: Any) -> None:
    clock = FakeClock(start)
    runtime = make_runtime(Path(project_dir), db_url, clock)
    runtime.sla.run_jobs_immediately()
    runtime.sla.scheduler.name = name
    runtime.sla.scheduler.batch_size = BATCH_SIZE
    created = []
    try:
        for n in range(1, steps + 1):
            barrier.wait(60)
            clock.set(start + step * n)
            created += [(k.subscription_id, k.slot) for k in runtime.sla.scheduler.tick()]
    finally:
        runtime.close()
        results.put((name, created))
