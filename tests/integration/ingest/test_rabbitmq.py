"""The RabbitMQ source against the real broker on 127.0.0.1:5672.

Messages are published with publisher confirms; the consumer is killed in the
middle of the stream (its task cancelled, its connection dropped with
messages unacknowledged), started again, and every confirmed message must
end as exactly one event.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import orjson
import pytest
from sqlalchemy import select

from tests.conftest import require_service
from tidings.ingest.deadletters import SqlDeadLetters
from tidings.ingest.pipeline import Pipeline
from tidings.ingest.sources.config import RabbitMqSource
from tidings.ingest.sources.rabbitmq import RabbitMqConsumer
from tidings.runtime.core import Runtime
from tidings.storage import tables

URL = "amqp://guest:guest@127.0.0.1:5672/"
MESSAGES = 300
WAIT_SECONDS = 60.0


@pytest.fixture
def queue_name() -> str:
    require_service("RabbitMQ", "127.0.0.1", 5672)
    return f"tidings-test-{uuid.uuid4().hex[:10]}"


def source(queue: str, **overrides: Any) -> RabbitMqSource:
    values: dict[str, Any] = {"name": "amqp-orders", "type": "rabbitmq", "tenant": "acme",
                              "message_type": "order.queued", "queue": queue, "prefetch": 20,
                              "reconnect_min_seconds": 0.05, "reconnect_max_seconds": 0.2}
    return RabbitMqSource.model_validate({**values, **overrides})


async def publish(queue: str, count: int, start: int = 0) -> list[str]:
    """Publish with confirms; return the ids of the confirmed messages."""
    connection = await aio_pika.connect(URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue(queue, durable=True, arguments={"x-queue-type": "quorum"})
        confirmed = []
        for n in range(start, start + count):
            body = orjson.dumps({"order": {"id": f"Q-{n}"}})
            await channel.default_exchange.publish(
                aio_pika.Message(body, message_id=f"m-{n}",
                                 delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=queue)  # returns after the broker's confirm
            confirmed.append(f"m-{n}")
        return confirmed


@pytest.fixture
async def cleanup(queue_name: str) -> AsyncIterator[None]:
    yield
    connection = await aio_pika.connect(URL)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue_name)


def events_of(runtime: Runtime) -> list[str]:
    e = tables.events
    with runtime.engine.connect() as conn:
        return list(conn.execute(select(e.c.external_id).where(e.c.source == "amqp-orders"))
                    .scalars())


async def wait_for(check: Any, seconds: float = WAIT_SECONDS) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while not await asyncio.to_thread(check):
        if loop.time() > end:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


class _KilledAfter(RabbitMqConsumer):
    """A consumer whose task is cancelled once ``limit`` events are committed.

    Cancelling from inside keeps the kill mid-stream however fast the machine is.
    """

    def __init__(self, limit: int, runtime: Runtime, *args: Any) -> None:
        super().__init__(*args)
        self.limit, self.runtime = limit, runtime

    async def handle(self, batch: list[aio_pika.abc.AbstractIncomingMessage]) -> None:
        await super().handle(batch)
        if len(events_of(self.runtime)) >= self.limit:
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            await asyncio.sleep(0)


def test_killed_consumer_loses_nothing_and_duplicates_nothing(
        runtime: Runtime, pipeline: Pipeline, queue_name: str) -> None:
    async def scenario() -> None:
        confirmed = await publish(queue_name, MESSAGES)
        first = _KilledAfter(MESSAGES // 3, runtime, source(queue_name), pipeline, URL)
        task = asyncio.create_task(first.consume())
        # mid-stream: prefetched messages are unacked, some committed
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()
        partial = len(events_of(runtime))
        assert partial < MESSAGES
        stop = asyncio.Event()
        second = asyncio.create_task(
            RabbitMqConsumer(source(queue_name), pipeline, URL).run(stop))
        await wait_for(lambda: len(events_of(runtime)) >= MESSAGES)
        await asyncio.sleep(0.3)  # any duplicate would have arrived by now
        stop.set()
        await second
        ids = events_of(runtime)
        assert len(ids) == len(set(ids)) == MESSAGES
        assert {i.split(":")[1] for i in ids} == set(confirmed)
        connection = await aio_pika.connect(URL)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(queue_name, passive=True)
            assert queue.declaration_result.message_count == 0
            await channel.queue_delete(queue_name)

    asyncio.run(scenario())


def test_poison_message_is_dead_lettered_after_its_deliveries(
        runtime: Runtime, pipeline: Pipeline, queue_name: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = pipeline.messages

    def crash_on_poison(items: Any, max_deliveries: int | None = None) -> Any:
        for _job, body, deliveries in items:
            if b"POISON" in body and max_deliveries is not None \
                    and deliveries <= max_deliveries:
                raise RuntimeError("this message breaks the consumer")
        return real(items, max_deliveries)

    monkeypatch.setattr(pipeline, "messages", crash_on_poison)

    async def scenario() -> None:
        await publish(queue_name, 3)
        connection = await aio_pika.connect(URL)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            await channel.default_exchange.publish(
                aio_pika.Message(b'{"order": {"id": "POISON"}}', message_id="bad-1",
                                 delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=queue_name)
        stop = asyncio.Event()
        consumer = RabbitMqConsumer(source(queue_name, max_deliveries=3), pipeline, URL)
        task = asyncio.create_task(consumer.run(stop))
        letters = SqlDeadLetters(runtime.engine)
        await wait_for(lambda: letters.count("amqp-orders") == 1)
        await wait_for(lambda: len(events_of(runtime)) == 3)
        stop.set()
        await task
        (letter,) = letters.list(source="amqp-orders")
        assert letter.reason == "poison"
        assert letter.location == "message"
        assert "delivered 4 times" in letter.detail
        assert letter.payload == b'{"order": {"id": "POISON"}}'
        connection = await aio_pika.connect(URL)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue_name)

    asyncio.run(scenario())


def test_unreachable_broker_is_retried_with_backoff(pipeline: Pipeline) -> None:
    reports: list[str | None] = []

    async def scenario() -> None:
        stop = asyncio.Event()
        consumer = RabbitMqConsumer(source("never"), pipeline, "amqp://guest:guest@127.0.0.1:1/",
                                    lambda tally, error: reports.append(error))
        task = asyncio.create_task(consumer.run(stop))
        await asyncio.sleep(0.6)
        stop.set()
        await task

    asyncio.run(scenario())
    errors = [r for r in reports if r]
    assert len(errors) >= 2
    assert all("cannot connect to RabbitMQ" in e for e in errors)
