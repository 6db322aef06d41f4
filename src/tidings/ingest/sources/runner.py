"""Runs every configured source on its own schedule, in one asyncio loop.

``SourceRunner(runtime).run(stop)`` starts one task per enabled source:

- polled sources (directory, own SFTP server's partner folders, SFTP poller,
  S3) run ``run_once`` at each time their schedule gives (``schedule``);
- queue sources (RabbitMQ, SQS) consume continuously and report their counts
  every few seconds.

After each run the source's status row is written (``status``): last run,
counts, last error, next run. An error never stops the loop; it is recorded
and the source is tried again at its next time. ``run_in_thread`` is what
``runtime.Background`` starts: a thread with its own event loop, stopped by
the background's ``threading.Event``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sqlalchemy.exc import SQLAlchemyError

from tidings.formats.errors import FormatError
from tidings.ingest.deadletters import SqlDeadLetters
from tidings.ingest.pipeline import Pipeline, Tally
from tidings.ingest.sources import config as configs
from tidings.ingest.sources import schedule
from tidings.ingest.sources.errors import SourceError
from tidings.ingest.sources.status import SqlSourceStatus

if TYPE_CHECKING:
    from tidings.runtime.core import Runtime

__all__ = ["Polled", "SourceRunner", "pipeline_of", "run_in_thread"]

log = logging.getLogger(__name__)
STOP_CHECK_SECONDS = 0.2
RUN_ERRORS = (SourceError, FormatError, OSError, SQLAlchemyError, ValueError)


@runtime_checkable
class Polled(Protocol):
    async def run_once(self) -> Tally: ...


class Streaming(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


def pipeline_of(runtime: Runtime) -> Pipeline:
    return Pipeline(runtime.ingestor, SqlDeadLetters(runtime.engine), runtime.project,
                    runtime.clock)


class SourceRunner:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.pipeline = pipeline_of(runtime)
        self.status = SqlSourceStatus(runtime.engine)

    async def run(self, stop: asyncio.Event) -> None:
        tasks = [asyncio.create_task(self.run_source(cfg, stop), name=f"source-{cfg.name}")
                 for cfg in self.runtime.project.config.sources if cfg.enabled]
        if tasks:
            await asyncio.gather(*tasks)

    async def run_source(self, cfg: configs.SourceConfigBase, stop: asyncio.Event) -> None:
        try:
            source = await self.build(cfg)
        except RUN_ERRORS as exc:
            self._record(cfg, Tally(), f"cannot start: {exc}")
            return
        if isinstance(source, Polled):
            await self.poll(cfg, source, stop)
        else:
            await source.run(stop)

    async def build(self, cfg: configs.SourceConfigBase) -> Polled | Streaming:
        # Each kind's module is imported when a source of that kind starts: the client
        # libraries (asyncssh, boto3 and botocore, aio-pika) cost 25 MB or more resident
        # in every worker that would import them all for one source.
        root, kind = self.runtime.project.root, getattr(cfg, "type", "")
        pipeline = self.pipeline

        def report(tally: Tally, error: str | None) -> None:
            self._record(cfg, tally, error)

        if isinstance(cfg, configs.DirectorySource):
            from tidings.ingest.sources import directory
            return directory.DirectoryPoller(cfg, pipeline, root)
        if isinstance(cfg, configs.SftpServerSource):
            from tidings.ingest.sources import sftp_server
            server = sftp_server.SftpServer(cfg, pipeline, root)
            await server.start()
            return server
        if isinstance(cfg, configs.SftpPollSource):
            from tidings.ingest.sources import sftp_poll
            return sftp_poll.SftpPoller(cfg, pipeline, os.environ)
        if isinstance(cfg, configs.S3Source):
            from tidings.ingest.sources import s3
            return s3.S3Poller(cfg, pipeline)
        if isinstance(cfg, configs.RabbitMqSource):
            from tidings.ingest.sources import rabbitmq
            url = os.environ.get(cfg.url_env) or self.runtime.settings.amqp_url
            if not url:
                raise SourceError(f"no AMQP URL: set {cfg.url_env}")
            return rabbitmq.RabbitMqConsumer(cfg, pipeline, url, report)
        if isinstance(cfg, configs.SqsSource):
            from tidings.ingest.sources import sqs
            return sqs.SqsConsumer(cfg, pipeline, report)
        raise SourceError(f"unknown source type {kind!r}")

    async def poll(self, cfg: configs.SourceConfigBase, source: Polled,
                   stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = self.runtime.clock.now()
            tally, error = Tally(), None
            try:
                tally = await source.run_once()
            except RUN_ERRORS as exc:
                error = f"{type(exc).__name__}: {exc}"
                log.warning("source %s failed: %s", cfg.name, error)
            following = schedule.next_run(cfg, started)
            self._record(cfg, tally, error, following)
            wait = (following - self.runtime.clock.now()).total_seconds()
            await _sleep(stop, max(wait, 0.0))
        closer = getattr(source, "close", None)
        if closer is not None:
            await closer()

    def _record(self, cfg: configs.SourceConfigBase, tally: Tally, error: str | None,
                following: datetime | None = None) -> None:
        if tally.accepted:
            self.runtime.wake.set()  # new messages for the dispatchers
        try:
            self.status.record(cfg.name, getattr(cfg, "type", "?"), cfg.tenant, tally, error,
                               self.runtime.clock.now(), following)
        except SQLAlchemyError:
            log.exception("source %s: cannot record its status", cfg.name)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return


def run_in_thread(runtime: Runtime, stop: threading.Event) -> None:
    """Run every source until ``stop`` is set (the body of a background thread)."""
    asyncio.run(_run(runtime, stop))


async def _run(runtime: Runtime, stop: threading.Event) -> None:
    done = asyncio.Event()

    async def watch() -> None:
        while not stop.is_set():
            await asyncio.sleep(STOP_CHECK_SECONDS)
        done.set()

    watcher = asyncio.create_task(watch())
    try:
        await SourceRunner(runtime).run(done)
    finally:
        watcher.cancel()
