"""Digest jobs through RabbitMQ: published with confirms, consumed, acknowledged after the
handler; a malformed job is dropped, not redelivered forever."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import aio_pika

from tests.conftest import require_service
from tidings.sla.jobs import AmqpJobs
from tidings.sla.scheduler import RunKey

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: safe even if this thread has a loop running."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(30)


def test_jobs_travel_through_rabbitmq() -> None:
    require_service("RabbitMQ", "127.0.0.1", 5672)
    queue = f"tidings.test.digests.{uuid.uuid4().hex[:8]}"
    seen: list[RunKey] = []
    done = threading.Event()

    def handler(key: RunKey) -> None:
        seen.append(key)
        if len(seen) == 3:
            done.set()

    jobs = AmqpJobs(AMQP_URL, handler, queue_name=queue)
    stop = threading.Event()
    consumer = threading.Thread(target=jobs.run, args=(stop,), daemon=True)
    try:
        jobs.publish([RunKey(1, "2026-10-19T08:00"), RunKey(2, "2026-10-19T08:00")])
        run_async(_publish_raw(queue, b"not json"))
        consumer.start()
        jobs.publish([RunKey(1, "2026-10-20T08:00")])
        assert done.wait(20)
        assert sorted((k.subscription_id, k.slot) for k in seen) == [
            (1, "2026-10-19T08:00"), (1, "2026-10-20T08:00"), (2, "2026-10-19T08:00")]
        assert run_async(_depth(queue)) == 0  # acknowledged, the bad one dropped
    finally:
        stop.set()
        jobs.close()
        run_async(_delete(queue))


async def _publish_raw(queue: str, body: bytes) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.default_exchange.publish(aio_pika.Message(body), routing_key=queue)


async def _depth(queue: str) -> int:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


async def _delete(queue: str) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue)
