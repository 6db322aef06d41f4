"""The SQS and S3 sources against moto's server mode, started by the test on a free port."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import orjson
import pytest
from sqlalchemy import select

from tests.conftest import IN_CI
from tidings.ingest.deadletters import SqlDeadLetters
from tidings.ingest.pipeline import Pipeline
from tidings.ingest.sources.config import S3Source, SqsSource
from tidings.ingest.sources.s3 import STATUS_TAG, S3Poller
from tidings.ingest.sources.sqs import SqsConsumer
from tidings.runtime.core import Runtime
from tidings.storage import tables

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ingest"
START_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    binary = shutil.which("moto_server", path=str(Path(sys.executable).parent)) \
        or shutil.which("moto_server")
    if binary is None:
        if IN_CI:
            pytest.fail("moto_server is not installed (CI must install moto[server])")
        pytest.skip("moto_server is not installed")
    port = free_port()
    process = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("moto_server did not start")
            time.sleep(0.1)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    yield url
    process.terminate()
    process.wait(10)


def client(service: str, url: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def events(runtime: Runtime, source: str) -> list[str]:
    e = tables.events
    with runtime.engine.connect() as conn:
        return list(conn.execute(select(e.c.external_id).where(e.c.source == source)
                                 .order_by(e.c.id)).scalars())


def sqs_source(queue_url: str, url: str, **overrides: Any) -> SqsSource:
    return SqsSource.model_validate({
        "name": "sqs-orders", "type": "sqs", "tenant": "acme", "message_type": "order.queued",
        "queue_url": queue_url, "endpoint_url": url, "wait_seconds": 1,
        "visibility_seconds": 2, **overrides})


def test_sqs_messages_become_events_then_are_deleted(moto_url: str, runtime: Runtime,
                                                     pipeline: Pipeline) -> None:
    sqs = client("sqs", moto_url)
    queue = sqs.create_queue(QueueName=f"orders-{time.monotonic_ns()}")["QueueUrl"]
    sent = [sqs.send_message(QueueUrl=queue, MessageBody=orjson.dumps(
        {"order": {"id": f"S-{n}"}}).decode())["MessageId"] for n in range(5)]
    sqs.send_message(QueueUrl=queue, MessageBody="{not json")
    consumer = SqsConsumer(sqs_source(queue, moto_url), pipeline, client=sqs)
    total = 0
    for _ in range(5):
        total += asyncio.run(consumer.receive_once()).records
        if total >= 6:
            break
    assert total == 6
    assert sorted(e.split(":")[1] for e in events(runtime, "sqs-orders")) == sorted(sent)
    (letter,) = SqlDeadLetters(runtime.engine).list(source="sqs-orders")
    assert (letter.reason, letter.location) == ("malformed", "document")
    assert sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages") is None
    attrs = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_sqs_visibility_is_extended_while_a_message_is_processed(
        moto_url: str, runtime: Runtime, pipeline: Pipeline,
        monkeypatch: pytest.MonkeyPatch) -> None:
    sqs = client("sqs", moto_url)
    queue = sqs.create_queue(QueueName=f"slow-{time.monotonic_ns()}")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody='{"order": {"id": "SLOW-1"}}')
    real, peeks = pipeline.message, []

    def slow(*args: Any) -> Any:
        time.sleep(2.6)  # longer than the 2 s visibility
        peeks.append(client("sqs", moto_url).receive_message(
            QueueUrl=queue, WaitTimeSeconds=0).get("Messages"))
        return real(*args)

    monkeypatch.setattr(pipeline, "message", slow)
    consumer = SqsConsumer(sqs_source(queue, moto_url), pipeline, client=sqs)
    assert asyncio.run(consumer.receive_once()).accepted == 1
    assert peeks == [None]  # still hidden after its first visibility ran out
    assert len(events(runtime, "sqs-orders")) == 1


def test_sqs_poison_after_max_deliveries(moto_url: str, runtime: Runtime,
                                         pipeline: Pipeline) -> None:
    sqs = client("sqs", moto_url)
    queue = sqs.create_queue(QueueName=f"poison-{time.monotonic_ns()}")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody='{"order": {"id": "P-1"}}')
    for _ in range(2):  # two deliveries nobody deleted
        sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0)
    consumer = SqsConsumer(sqs_source(queue, moto_url, max_deliveries=2), pipeline, client=sqs)
    assert asyncio.run(consumer.receive_once()).dead_lettered == 1
    (letter,) = SqlDeadLetters(runtime.engine).list(source="sqs-orders")
    assert letter.reason == "poison"
    assert events(runtime, "sqs-orders") == []


@pytest.mark.parametrize("when_done", ["move", "tag"])
def test_s3_objects_are_ingested_once_then_moved_or_tagged(
        moto_url: str, runtime: Runtime, pipeline: Pipeline, when_done: str) -> None:
    s3 = client("s3", moto_url)
    bucket = f"drop-{time.monotonic_ns()}"
    s3.create_bucket(Bucket=bucket)
    batch = (FIXTURES / "reasons" / "bad_value.txt").read_bytes()
    s3.put_object(Bucket=bucket, Key="inbox/batch-1.txt", Body=batch)
    s3.put_object(Bucket=bucket, Key="inbox/batch-2.txt.part", Body=b"half")
    config = S3Source.model_validate({
        "name": "s3-orders", "type": "s3", "message_type": "fw-orders", "tenant": "acme",
        "bucket": bucket, "endpoint_url": moto_url, "when_done": when_done})
    poller = S3Poller(config, pipeline, client=s3)
    tally = asyncio.run(poller.run_once())
    assert (tally.accepted, tally.dead_lettered) == (2, 1)
    assert asyncio.run(poller.run_once()).records == 0  # taken once
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    if when_done == "move":
        assert keys == ["failed/batch-1.txt", "failed/batch-1.txt.result.ndjson",
                        "inbox/batch-2.txt.part"]
    else:
        assert keys == ["failed/batch-1.txt.result.ndjson", "inbox/batch-1.txt",
                        "inbox/batch-2.txt.part"]
        tags = s3.get_object_tagging(Bucket=bucket, Key="inbox/batch-1.txt")["TagSet"]
        assert tags == [{"Key": STATUS_TAG, "Value": "failed"}]
    result = s3.get_object(Bucket=bucket, Key="failed/batch-1.txt.result.ndjson")["Body"].read()
    lines = [orjson.loads(line) for line in result.splitlines()]
    assert [line.get("status") for line in lines[:-1]] == ["accepted", "dead_letter", "accepted"]
    assert lines[-1]["accepted"] == 2
    assert len(events(runtime, "s3-orders")) == 2
