"""Digest jobs in transit: RabbitMQ when configured, an in-process queue otherwise.

A job is a ``RunKey``; the ``sla_digest_runs`` row is the source of truth and the handler is
idempotent (a run already done is skipped), so the transport only has to deliver at least
once. ``ImmediateJobs`` runs the handler in the publishing thread (tests, one-shot CLI),
``InProcessJobs`` hands jobs to a worker thread, ``AmqpJobs`` publishes them with publisher
confirms to a durable quorum queue and consumes them with manual acks (acknowledged after the
handler returned).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from tidings.sla.scheduler import RunKey

__all__ = ["AmqpJobs", "Handler", "ImmediateJobs", "InProcessJobs", "JobsError"]

log = logging.getLogger(__name__)
Handler = Callable[[RunKey], object]
QUEUE_NAME = "tidings.sla.digests"
POLL_SECONDS = 0.5
PUBLISH_TIMEOUT_SECONDS = 30.0
PREFETCH = 8
RETRY_SECONDS = 5.0


class JobsError(RuntimeError):
    """The job transport could not take a job."""


def _handle(handler: Handler, key: RunKey) -> None:
    try:
        handler(key)
    except Exception:
        log.exception("digest job %s failed", key)


class ImmediateJobs:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    def publish(self, keys: Sequence[RunKey]) -> None:
        for key in keys:
            _handle(self.handler, key)

    def run(self, stop: threading.Event) -> None:
        stop.wait()


class InProcessJobs:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.pending: queue.Queue[RunKey] = queue.Queue()

    def publish(self, keys: Sequence[RunKey]) -> None:
        for key in keys:
            self.pending.put(key)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                key = self.pending.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            _handle(self.handler, key)


class AmqpJobs:
    """RabbitMQ transport on its own event loop thread (aio-pika)."""

    def __init__(self, url: str, handler: Handler, queue_name: str = QUEUE_NAME) -> None:
        self.url, self.handler, self.queue_name = url, handler, queue_name
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sla-amqp",
                                        daemon=True)
        self._thread.start()
        self._connection: Any = None
        self._channel: Any = None

    def publish(self, keys: Sequence[RunKey]) -> None:
        future = asyncio.run_coroutine_threadsafe(self._publish(keys), self._loop)
        try:
            future.result(PUBLISH_TIMEOUT_SECONDS)
        except Exception as exc:
            raise JobsError(f"could not publish {len(keys)} digest jobs: {exc}") from exc

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set; while the broker is unreachable, retry.

        Jobs not consumed meanwhile stay in the queue, and runs whose publication failed
        stay ``queued`` in the database for the scheduler to publish again."""
        while not stop.is_set():
            try:
                asyncio.run_coroutine_threadsafe(self._consume(), self._loop).result(
                    PUBLISH_TIMEOUT_SECONDS)
            except Exception:
                log.exception("cannot consume digest jobs from RabbitMQ; retrying")
                self._channel = None
                stop.wait(RETRY_SECONDS)
                continue
            stop.wait()

    def close(self) -> None:
        if self._connection is not None:
            asyncio.run_coroutine_threadsafe(self._connection.close(), self._loop).result(
                PUBLISH_TIMEOUT_SECONDS)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(PUBLISH_TIMEOUT_SECONDS)

    async def _ready(self) -> Any:
        import aio_pika

        if self._channel is None:
            self._connection = await aio_pika.connect_robust(self.url)
            self._channel = await self._connection.channel(publisher_confirms=True)
            await self._channel.set_qos(prefetch_count=PREFETCH)
            await self._channel.declare_queue(self.queue_name, durable=True,
                                              arguments={"x-queue-type": "quorum"})
        return self._channel

    async def _publish(self, keys: Sequence[RunKey]) -> None:
        import aio_pika

        channel = await self._ready()
        for key in keys:
            body = orjson.dumps({"subscription_id": key.subscription_id, "slot": key.slot})
            await channel.default_exchange.publish(
                aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                 content_type="application/json"),
                routing_key=self.queue_name)

    async def _consume(self) -> None:
        channel = await self._ready()
        declared = await channel.declare_queue(self.queue_name, durable=True,
                                               arguments={"x-queue-type": "quorum"})
        await declared.consume(self._on_message)

    async def _on_message(self, message: Any) -> None:
        try:
            doc = orjson.loads(message.body)
            key = RunKey(int(doc["subscription_id"]), str(doc["slot"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.error("dropping a malformed digest job: %r", message.body[:200])
            await message.reject(requeue=False)
            return
        await asyncio.get_running_loop().run_in_executor(None, _handle, self.handler, key)
        await message.ack()
