"""Build every service of a Tidings process from its settings."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from pydantic import SecretStr

from tidings.channels import connection, delivery
from tidings.channels.service import ChannelService
from tidings.clock import Clock, SystemClock
from tidings.dispatch.control import DeliveryControl
from tidings.dispatch.dispatcher import Dispatcher
from tidings.feedback.service import FeedbackService
from tidings.ingest.service import Ingestor
from tidings.observability import logs
from tidings.project.compiled import CompiledProject, compile_project
from tidings.providers import registry
from tidings.providers.base import Provider
from tidings.providers.capture import CaptureProvider
from tidings.providers.smtp import SmtpProvider
from tidings.settings import Settings
from tidings.sla import stage as sla_stage
from tidings.storage import engine as engines
from tidings.storage import migrate
from tidings.storage.api_keys_sql import SqlApiKeys
from tidings.storage.idempotency_sql import SqlIdempotency
from tidings.storage.outbox_sql import SqlOutbox

__all__ = ["Background", "Runtime"]

log = logging.getLogger(__name__)
MAX_CONCURRENT_INGESTS = 16


class Runtime:
    def __init__(self, settings: Settings, clock: Clock | None = None,
                 project: CompiledProject | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.engine = engines.create(settings.effective_database_url(),
                                     sqlite_synchronous=settings.sqlite_synchronous)
        self.project = project or compile_project(settings.project_dir)
        self.outbox = SqlOutbox(self.engine)
        self.keys = SqlApiKeys(self.engine)
        self.idempotency = SqlIdempotency(self.engine)
        self.ingestor = Ingestor(self.engine, self.project, self.outbox, self.clock)
        self.channels = ChannelService(self.engine, self.clock, self.project.config)
        self._delivery: DeliveryControl | None = None
        self.wake = threading.Event()
        self.ingest_slots = asyncio.Semaphore(MAX_CONCURRENT_INGESTS)
        self.hostname = socket.gethostname()  # once: smtplib would ask DNS on every connect
        self.worker_prefix = f"{self.hostname}:{os.getpid()}"
        self.sla = sla_stage.SlaStage(self.engine, self.project, self.outbox, self.clock,
                                      name=self.worker_prefix, amqp_url=settings.amqp_url,
                                      portal_url=settings.public_url)
        sla_stage.track_orders(self.ingestor, self.sla.service.observe)
        self.feedback = FeedbackService(  # tracking, returns, suppression, reports
            self.engine, self.outbox, self.project.config, settings.secret_key.get_secret_value(),
            settings.public_url or f"http://{settings.host}:{settings.port}")
        self.ingestor.feedback = self.feedback.outgoing
        logs.protect(self.project.config, os.environ, settings.secret_key.get_secret_value(),
                     settings.effective_database_url())

    def migrate(self) -> None:
        migrate.upgrade(self.engine)

    def make_provider(self, name: str) -> Provider:
        config = self.channels.catalog().provider(name)
        if config.type == "capture":
            return CaptureProvider(name, self.engine, self.clock)
        if config.type in registry.TYPES:  # vendor providers: ses, twilio, webpush, print...
            return registry.make(config, clock=self.clock)
        opts = connection.merged_settings(config)
        password_env = opts.pop("password_env", None)
        password = os.environ.get(password_env) if password_env else None
        return SmtpProvider(
            name, opts.pop("host"), int(opts.pop("port", 25)),
            security=opts.pop("security", "none"), username=opts.pop("username", None),
            password=SecretStr(password) if password else None,
            timeout_seconds=float(opts.pop("timeout_seconds", 30)),
            verify_tls=bool(opts.pop("verify_tls", True)), ca_file=opts.pop("ca_file", None),
            local_hostname=opts.pop("local_hostname", None) or self.hostname,
            max_batch=config.bulk_size)

    def dispatcher(self, index: int = 0) -> Dispatcher:
        return Dispatcher(self.outbox, self.project.policies, self.make_provider, self.clock,
                          f"{self.worker_prefix}:{index}", self.settings.lease_seconds,
                          control=self.delivery())

    def delivery(self) -> DeliveryControl:
        """Rate limits, status tables, failover, DKIM and unsubscribe links (built once)."""
        if self._delivery is None:
            s = self.settings
            self._delivery = delivery.build(
                self.channels, self.outbox, self.project.config, self.project.root,
                redis_url=s.redis_url, secret=s.secret_key.get_secret_value(),
                public_url=s.public_url or f"http://{s.host}:{s.port}", environ=os.environ)
        return self._delivery

    def maintain(self) -> dict[str, int]:
        now = self.clock.now()
        counts = self.outbox.sweep(now)
        counts["idempotency_purged"] = self.idempotency.purge(
            now, timedelta(hours=self.settings.idempotency_ttl_hours))
        counts |= self.feedback.maintain(now)
        return counts

    def start(self, workers: int | None = None) -> Background:
        self.channels.sync()  # the project file seeds the operator's objects
        background = Background(self)
        background.start(self.settings.workers if workers is None else workers)
        return background

    def close(self) -> None:
        self.sla.close()
        self.engine.dispose()


@dataclass
class Background:
    """Dispatcher threads and the maintenance loop of one process."""

    runtime: Runtime
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self, workers: int) -> None:
        poll = self.runtime.settings.poll_interval_seconds
        for index in range(workers):
            dispatcher = self.runtime.dispatcher(index)
            self._spawn(f"dispatcher-{index}", dispatcher.run, self.stop, poll, self.runtime.wake)
        self._spawn("maintenance", self._maintain)
        if self.runtime.project.config.sources:
            from tidings.ingest.sources import runner
            self._spawn("sources", runner.run_in_thread, self.runtime, self.stop)
        for name, loop in self.runtime.sla.loops():
            self._spawn(name, loop, self.stop)

    def _spawn(self, name: str, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self.threads.append(thread)

    def _maintain(self) -> None:
        while not self.stop.wait(self.runtime.settings.maintenance_interval_seconds):
            try:
                counts = self.runtime.maintain()
                if counts["expired"] or counts["recovered"]:
                    log.info("maintenance %s", counts)
            except Exception:
                log.exception("maintenance failed")

    def shutdown(self, timeout_seconds: float = 30.0) -> None:
        """Let in-flight batches finish and record their outcomes, then return."""
        self.stop.set()
        self.runtime.wake.set()
        for thread in self.threads:
            thread.join(timeout_seconds)
