"""The RabbitMQ source: a durable queue, acknowledged only after the commit.

- The queue is declared durable, as a quorum queue by default: RabbitMQ then
  counts deliveries itself (``x-delivery-count``), so a message that keeps
  failing (it crashes the consumer, or its commit always fails) is
  dead-lettered as ``poison`` once delivered ``max_deliveries`` times. On a
  classic queue only the ``redelivered`` flag is known: it counts as 2.
- ``prefetch`` messages are in flight at most. Whatever has arrived (up to
  ``batch_size``, waiting at most ``LINGER_SECONDS`` for more) is decoded and
  committed in ONE transaction (in a worker thread), then acked at once
  (``multiple=True``): a group commit, so a busy queue is not held to one synced
  commit per message. A message whose processing raises is
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
LINGER_SECONDS = 0.02
CONNECTION_CHECK_SECONDS = 1.0
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
                # deliveries land in a local queue: a batch waits on it, and a wait cut
                # short by the linger time loses nothing (the message stays there)
                inbox: asyncio.Queue[aio_pika.abc.AbstractIncomingMessage] = asyncio.Queue()
                await queue.consume(inbox.put)
                while True:
                    first = await self._next(inbox, connection)
                    await self.handle(await self._more(first, inbox))
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

    @staticmethod
    async def _next(inbox: asyncio.Queue[aio_pika.abc.AbstractIncomingMessage],
                    connection: aio_pika.abc.AbstractConnection,
                    ) -> aio_pika.abc.AbstractIncomingMessage:
        """The next delivery; raises when the connection closed meanwhile."""
        while True:
            try:
                return await asyncio.wait_for(inbox.get(), CONNECTION_CHECK_SECONDS)
            except TimeoutError:
                if connection.is_closed:
                    raise SourceError("RabbitMQ connection lost") from None

    async def _more(self, first: aio_pika.abc.AbstractIncomingMessage,
                    inbox: asyncio.Queue[aio_pika.abc.AbstractIncomingMessage],
                    ) -> list[aio_pika.abc.AbstractIncomingMessage]:
        """``first`` and whatever follows within ``LINGER_SECONDS``, up to a batch."""
        batch = [first]
        limit = min(self.config.batch_size, self.config.prefetch)
        while len(batch) < limit:
            try:
                batch.append(await asyncio.wait_for(inbox.get(), LINGER_SECONDS))
            except TimeoutError:
                break
        return batch

    async def handle(self, batch: list[aio_pika.abc.AbstractIncomingMessage]) -> None:
        jobs = [(Job(self.config.name, self.config.message_type, self.config.tenant,
                     f"{self.config.name}:{_key(m)}", self.config.batch_size), m.body,
                 deliveries(m)) for m in batch]
        try:
            tally = await asyncio.to_thread(self.pipeline.messages, jobs,
                                            self.config.max_deliveries)
        except Exception as exc:
            if len(batch) == 1:
                # not acked: the broken connection hands it back to the queue
                raise SourceError(f"message {_key(batch[0])}: {type(exc).__name__}: "
                                  f"{exc}") from exc
            await self._one_by_one(batch, jobs)
            return
        # every earlier delivery on this channel was acked with its own batch
        await batch[-1].ack(multiple=True)
        self._pending.add(tally)
        self._report(None)

    async def _one_by_one(self, batch: list[aio_pika.abc.AbstractIncomingMessage],
                          jobs: list[tuple[Job, bytes, int]]) -> None:
        """A batch failed: one broken message must not take its neighbours down with
        it (their delivery counts would climb towards ``poison`` too). Each message is
        committed alone and acked alone; the broken ones go back to the queue."""
        failure: Exception | None = None
        for message, job in zip(batch, jobs, strict=True):
            try:
                tally = await asyncio.to_thread(self.pipeline.messages, [job],
                                                self.config.max_deliveries)
            except Exception as exc:
                failure = failure or exc
                continue
            await message.ack()
            self._pending.add(tally)
        if failure is not None:
            raise SourceError(f"{type(failure).__name__}: {failure}") from failure
        self._report(None)

    def _report(self, error: str | None, force: bool = False) -> None:
        if self.report is None:
            return
        if force or time.monotonic() - self._reported_at >= STATUS_EVERY_SECONDS:
            self.report(self._pending, error)
            self._pending, self._reported_at = Tally(), time.monotonic()


def _key(message: aio_pika.abc.AbstractIncomingMessage) -> str:
    return message.message_id or hashlib.sha256(message.body).hexdigest()


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
