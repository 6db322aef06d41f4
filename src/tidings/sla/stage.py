"""The sla stage assembled for one process; built by ``runtime.core.Runtime`` only.

``SlaStage`` wires the SQL stores into the ``SlaService`` and owns the stage's loops, which
``runtime.core.Background`` runs as threads: ``sla-timers`` (deadline timers),
``sla-scheduler`` (digest slots) and ``sla-digests`` (digest jobs: RabbitMQ when an AMQP URL
is configured, an in-process queue otherwise). ``track_orders`` makes every accepted ingest
batch record its order events in the same transaction as the events themselves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine

from tidings.clock import Clock
from tidings.project.compiled import CompiledProject
from tidings.sla import jobs as sla_jobs
from tidings.sla.digests import DigestComposer, DigestWorker
from tidings.sla.scheduler import DigestScheduler
from tidings.sla.service import SlaService
from tidings.sla.timers import TimerLoop
from tidings.storage.outbox_sql import SqlOutbox
from tidings.storage.sla_digests_sql import SqlDigests
from tidings.storage.sla_keys_sql import SqlPartyKeys
from tidings.storage.sla_reads_sql import SqlSlaReads
from tidings.storage.sla_rules_sql import SqlRuleBooks
from tidings.storage.sla_sql import SqlLifecycle

__all__ = ["DEFAULT_PORTAL_URL", "SlaStage", "track_orders"]

DEFAULT_PORTAL_URL = "http://127.0.0.1:8025"
Loop = Callable[[threading.Event], None]
Observe = Callable[[Any, str, str, Mapping[str, Any], str | None], None]


class SlaStage:
    def __init__(self, engine: Engine, project: CompiledProject, outbox: SqlOutbox,
                 clock: Clock, *, name: str, amqp_url: str | None = None,
                 portal_url: str | None = None) -> None:
        self.books = SqlRuleBooks(engine)
        self.lifecycle = SqlLifecycle(engine, self.books)
        self.reads = SqlSlaReads(engine)
        self.digests = SqlDigests(engine, self.reads, outbox)
        self.service = SlaService(self.lifecycle, self.books, self.reads, SqlPartyKeys(engine),
                                  self.digests, clock)
        self.timers = TimerLoop(self.lifecycle, clock)
        self.worker = DigestWorker(self.digests,
                                   DigestComposer(project, portal_url or DEFAULT_PORTAL_URL),
                                   clock)
        self.jobs: Any = sla_jobs.AmqpJobs(amqp_url, self.worker.handle) if amqp_url \
            else sla_jobs.InProcessJobs(self.worker.handle)
        self.scheduler = DigestScheduler(self.digests, self.jobs, clock, name)

    def run_jobs_immediately(self) -> None:
        """Deliver digest jobs in the scheduler's thread (tests and one-shot commands)."""
        self.jobs = sla_jobs.ImmediateJobs(self.worker.handle)
        self.scheduler.jobs = self.jobs

    def loops(self) -> list[tuple[str, Loop]]:
        return [("sla-timers", self.timers.run), ("sla-scheduler", self.scheduler.run),
                ("sla-digests", self.jobs.run)]

    def close(self) -> None:
        if isinstance(self.jobs, sla_jobs.AmqpJobs):
            self.jobs.close()


def track_orders(ingestor: Any, observe: Observe) -> None:
    """Wrap ``ingestor.accept`` so order events of a committed batch reach ``observe`` inside
    the batch's transaction (duplicates are skipped: they were recorded the first time)."""
    original = ingestor.accept

    def accept(tenant: str, events: Sequence[Any], source: str,
               on_commit: Callable[[Any, list[Any]], None] | None = None) -> list[Any]:
        def hook(conn: Any, accepted: list[Any]) -> None:
            for event, outcome in zip(events, accepted, strict=True):
                if not outcome.duplicate:
                    observe(conn, tenant, event.type, event.data, event.external_id)
            if on_commit is not None:
                on_commit(conn, accepted)

        return list(original(tenant, events, source, hook))

    ingestor.accept = accept
