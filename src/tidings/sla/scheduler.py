"""The digest scheduler: due subscriptions become digest jobs, each slot once.

A tick asks the store for subscriptions whose ``next_run_at`` has come (through its index;
PostgreSQL hands disjoint rows to concurrent schedulers with ``SKIP LOCKED``). For each one
``decide`` names the slot to fire (``schedule.due_slot``: after downtime only the latest missed
slot, one catch-up digest) and the next run. The store inserts one ``sla_digest_runs`` row per
(subscription, slot) and only a row it inserted becomes a job, so a slot fires once however
many schedulers run, and a DST fold (the same local slot twice) fires once too. Jobs are
published after the commit; a job whose publication was lost stays ``queued`` and is published
again after ``REPUBLISH_AFTER``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from tidings.clock import Clock
from tidings.sla import schedule

__all__ = ["DigestScheduler", "JobQueue", "RunKey", "SchedulerStore", "decide"]

log = logging.getLogger(__name__)
TICK_SECONDS = 15.0
BATCH_SIZE = 100
REPUBLISH_AFTER = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class RunKey:
    subscription_id: int
    slot: str


class SchedulerStore(Protocol):
    def claim_due(self, now: datetime, limit: int,
                  scheduler: str) -> tuple[int, list[RunKey]]:
        """Look at up to ``limit`` due subscriptions: ``(how many, the runs created)``."""

    def stale_runs(self, queued_before: datetime, limit: int) -> list[RunKey]: ...


class JobQueue(Protocol):
    def publish(self, keys: Sequence[RunKey]) -> None: ...


def decide(cron: str, tz: str, last_slot_at: datetime | None,
           now: datetime) -> tuple[datetime | None, datetime]:
    """``(slot to fire or None, next_run_at)`` for a subscription looked at ``now``."""
    slot = schedule.due_slot(cron, tz, last_slot_at, now)
    return slot, schedule.next_runs(cron, tz, now, 1)[0]


class DigestScheduler:
    def __init__(self, store: SchedulerStore, jobs: JobQueue, clock: Clock, name: str,
                 batch_size: int = BATCH_SIZE, tick_seconds: float = TICK_SECONDS) -> None:
        self.store, self.jobs, self.clock, self.name = store, jobs, clock, name
        self.batch_size, self.tick_seconds = batch_size, tick_seconds

    def tick(self) -> list[RunKey]:
        """Fire every due slot now; returns the runs this scheduler created."""
        created: list[RunKey] = []
        while True:
            claimed, keys = self.store.claim_due(self.clock.now(), self.batch_size, self.name)
            if keys:
                self.jobs.publish(keys)
            created += keys
            if claimed < self.batch_size:
                return created

    def republish(self) -> int:
        keys = self.store.stale_runs(self.clock.now() - REPUBLISH_AFTER, self.batch_size)
        if keys:
            self.jobs.publish(keys)
        return len(keys)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                created = self.tick()
                if created:
                    log.info("digest scheduler %s queued %d digests", self.name, len(created))
                self.republish()
            except Exception:
                log.exception("digest scheduler failed")
            stop.wait(self.tick_seconds)
