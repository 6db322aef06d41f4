"""The RabbitMQ source: a durable queue, acknowledged only after the commit.

- The queue is declared durable, as a quorum queue by default: RabbitMQ then
  counts deliveries itself (``x-delivery-count``), so a message that keeps
  failing (it crashes the consumer, or its commit always fails) is
  dead-lettered as ``poison`` once delivered ``max_deliveries`` times. On a
  classic queue only the ``redelivered`` flag is known: it counts as 2.
- ``prefetch`` messages are in flight at most; each is decoded and committed
  (in a worker thread), then acked. A message whose processing raises is
  not acked: the connection is closed, RabbitMQ requeues everything unacked,
  and the consumer reconnects after a backoff doubling from
  ``reconnect_min_seconds`` to ``reconnect_max_seconds``.
- Every record's external id is ``<source>:<message id>:<n>`` (the AMQP
  ``message_id``, else the SHA-256 of the body) unless the message type pulls
  one out: a message redelivered after its commit (the consumer died between
  commit and ack) is a duplicate, never a second event.

aio-pika errors are translated at this boundary into ``SourceError``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

import aio_pika
import aio_pika.abc
import aio_pika.exceptions

from tidings.ingest.pipeline import Job, Pipeline, Tally
from tidings.ingest.sources.config import RabbitMqSource
from tidings.ingest.sources.errors import SourceError

__all__ = ["STATUS_EVERY_SECONDS", "RabbitMqConsumer"]

log = logging.getLogger(__name__)
STATUS_EVERY_SECONDS = 5.0
Report = Callable[[Tally, str | None], None]


class RabbitMqConsumer:
    def __init__(self, config: RabbitMqSource, pipeline: Pipeline, url: str,
                 report: Report | None = None) -> None:
        self.config, self.pipeline, self.url = config, pipeline, url
        self.report = report
        self._pending = Tally()
        self._reported_at = time.monotonic()

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, reconnecting with backoff."""
        delay = self.config.reconnect_min_seconds
        while not stop.is_set():
            try:
                await _until(stop, self.consume())
                delay = self.config.reconnect_min_seconds
            except SourceError as exc:
                log.warning("source %s: %s; reconnecting in %.1f s", self.config.name, exc,
                            delay)
                self._report(str(exc), force=True)
                await _sleep(stop, delay)
                delay = min(delay * 2, self.config.reconnect_max_seconds)
        self._report(None, force=True)

    async def consume(self) -> None:
        """One connection's life: declare, then handle messages until it breaks."""
        try:
            connection = await aio_pika.connect(self.url)
        except (aio_pika.exceptions.AMQPError, OSError) as exc:
            raise SourceError(f"cannot connect to RabbitMQ: {exc}") from exc
        try:
            async with connection:
                queue = await self.declare(connection)
                async with queue.iterator() as messages:
                    async for message in messages:
                        await self.handle(message)
        except (aio_pika.exceptions.AMQPError, OSError) as exc:
            raise SourceError(f"RabbitMQ connection lost: {exc}") from exc

    async def declare(self, connection: aio_pika.abc.AbstractConnection,
                      ) -> aio_pika.abc.AbstractQueue:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=self.config.prefetch)
        arguments: dict[str, Any] | None = {"x-queue-type": "quorum"} \
            if self.config.quorum else None
        return await channel.declare_queue(self.config.queue, durable=True,
                                           arguments=arguments)  # type: ignore[arg-type]

    async def handle(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        key = message.message_id or hashlib.sha256(message.body).hexdigest()
        job = Job(self.config.name, self.config.message_type, self.config.tenant,
                  f"{self.config.name}:{key}", self.config.batch_size)
        try:
            tally = await asyncio.to_thread(self.pipeline.message, job, message.body,
                                            deliveries(message), self.config.max_deliveries)
        except Exception as exc:
            # not acked: the broken connection hands it back to the queue
            raise SourceError(f"message {key}: {type(exc).__name__}: {exc}") from exc
        await message.ack()
        self._pending.add(tally)
        self._report(None)

    def _report(self, error: str | None, force: bool = False) -> None:
        if self.report is None:
            return
        if force or time.monotonic() - self._reported_at >= STATUS_EVERY_SECONDS:
            self.report(self._pending, error)
            self._pending, self._reported_at = Tally(), time.monotonic()


def deliveries(message: aio_pika.abc.AbstractIncomingMessage) -> int:
    """How often this message has been delivered, this time included."""
    count: Any = (message.headers or {}).get("x-delivery-count")
    if isinstance(count, int):
        return count + 1
    return 2 if message.redelivered else 1


async def _until(stop: asyncio.Event, work: Any) -> None:
    """Run ``work`` until it ends or ``stop`` is set (then cancel it)."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if task.done() and not task.cancelled():
        task.result()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return
