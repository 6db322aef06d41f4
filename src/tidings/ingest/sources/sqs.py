"""The Amazon SQS source: long polling, delete after the commit, visibility extended.

Each receive waits up to ``wait_seconds`` for at most ``max_messages``
messages and hides them for ``visibility_seconds``. While one message is being
decoded and committed, its visibility is extended every half of that time, so
no other consumer takes it meanwhile. It is deleted only after the commit; a
message that is not deleted comes back when its visibility ends, and once
SQS has delivered it more than ``max_deliveries`` times
(``ApproximateReceiveCount``) it is dead-lettered as ``poison``.

Record external ids are ``<source>:<MessageId>:<n>`` unless the message type
pulls one out. boto3 is synchronous: every call runs in a worker thread, and
botocore errors become ``SourceError`` here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import boto3
import botocore.exceptions

from tidings.ingest.pipeline import Job, Pipeline, Tally
from tidings.ingest.sources.config import SqsSource
from tidings.ingest.sources.errors import SourceError

__all__ = ["BACKOFF_MAX_SECONDS", "SqsConsumer", "client_for"]

log = logging.getLogger(__name__)
BACKOFF_MIN_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 30.0
BOTO_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
Report = Callable[[Tally, str | None], None]


def client_for(service: str, region: str, endpoint_url: str | None) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint_url)


class SqsConsumer:
    def __init__(self, config: SqsSource, pipeline: Pipeline, report: Report | None = None,
                 client: Any = None) -> None:
        self.config, self.pipeline, self.report = config, pipeline, report
        self.client = client or client_for("sqs", config.region, config.endpoint_url)

    async def run(self, stop: asyncio.Event) -> None:
        delay = BACKOFF_MIN_SECONDS
        while not stop.is_set():
            try:
                tally = await self.receive_once()
            except SourceError as exc:
                log.warning("source %s: %s", self.config.name, exc)
                self._report(Tally(), str(exc))
                await _sleep(stop, delay)
                delay = min(delay * 2, BACKOFF_MAX_SECONDS)
                continue
            delay = BACKOFF_MIN_SECONDS
            if tally.records:
                self._report(tally, None)

    async def receive_once(self) -> Tally:
        """One long poll, then every message it gave, each committed then deleted."""
        answer = await self._call(
            self.client.receive_message, QueueUrl=self.config.queue_url,
            MaxNumberOfMessages=self.config.max_messages,
            WaitTimeSeconds=self.config.wait_seconds,
            VisibilityTimeout=self.config.visibility_seconds,
            AttributeNames=["ApproximateReceiveCount"])
        total = Tally()
        for message in answer.get("Messages", []):
            total.add(await self.handle(message))
        return total

    async def handle(self, message: dict[str, Any]) -> Tally:
        body = str(message.get("Body", "")).encode("utf-8")
        job = Job(self.config.name, self.config.message_type, self.config.tenant,
                  f"{self.config.name}:{message['MessageId']}", self.config.batch_size)
        count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        work = asyncio.ensure_future(asyncio.to_thread(
            self.pipeline.message, job, body, count, self.config.max_deliveries))
        handle = message["ReceiptHandle"]
        while True:
            done, _ = await asyncio.wait({work}, timeout=self.config.visibility_seconds / 2)
            if done:
                break
            await self._call(self.client.change_message_visibility,
                             QueueUrl=self.config.queue_url, ReceiptHandle=handle,
                             VisibilityTimeout=self.config.visibility_seconds)
        try:
            tally = work.result()
        except Exception as exc:
            raise SourceError(f"message {message['MessageId']}: {exc}") from exc
        await self._call(self.client.delete_message, QueueUrl=self.config.queue_url,
                         ReceiptHandle=handle)
        return tally

    async def _call(self, method: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(method, **kwargs)
        except BOTO_ERRORS as exc:
            raise SourceError(f"SQS: {exc}") from exc

    def _report(self, tally: Tally, error: str | None) -> None:
        if self.report is not None:
            self.report(tally, error)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return
