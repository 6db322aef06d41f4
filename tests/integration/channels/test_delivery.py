"""Delivery control through the dispatcher: status tables, live reloads, failover, 429s."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.integration.channels.projects import add_to_project
from tests.smtp_sink import free_port
from tidings.clock import FakeClock
from tidings.domain.outcomes import Deferred, Outcome
from tidings.providers.base import Envelope, Provider
from tidings.runtime.core import Runtime
from tidings.storage import tables, tables_channels


def add(client: TestClient, **fields: Any) -> int:
    body: dict[str, Any] = {"to": ["ada@example.com"], "subject": "s", "body_text": "t"}
    body.update(fields)
    answer = client.post("/v1/messages", json=body)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def state(client: TestClient, message_id: int) -> dict[str, Any]:
    return dict(client.get(f"/v1/messages/{message_id}").json())


def test_the_status_table_decides_and_edits_apply_without_restart(
        client: TestClient, runtime: Runtime) -> None:
    dispatcher = runtime.dispatcher()
    first = add(client)
    dispatcher.step()
    assert state(client, first)["state"] == "sent"
    # the operator decides that this provider's "250" is a sandbox answer: not delivered
    assert client.put("/v1/providers/capture/statuses/250",
                      json={"action": "fail", "description": "sandbox"}).status_code == 200
    second = add(client)
    dispatcher.step()                               # the same running dispatcher
    message = state(client, second)
    assert message["state"] == "failed" and "sandbox" in message["last_error"]
    client.put("/v1/providers/capture/statuses/250", json={"action": "retry"})
    third = add(client)
    dispatcher.step()
    assert state(client, third)["state"] == "deferred"


def test_provider_settings_reload_in_a_running_dispatcher(
        client: TestClient, runtime: Runtime) -> None:
    dispatcher = runtime.dispatcher()
    for i in range(5):
        add(client, to=[f"c{i}@example.com"])
    client.patch("/v1/providers/capture", json={"bulk_size": 2})
    assert [dispatcher.step() for _ in range(4)] == [2, 2, 1, 0]


def test_failover_moves_to_the_next_provider_keeping_the_message_id(
        project_dir: Path, client: TestClient, runtime: Runtime) -> None:
    dead = free_port()                                      # nothing listens here
    client.post("/v1/providers", json={
        "name": "smtp-down", "channel": "email", "type": "smtp",
        "service_url": f"smtp://127.0.0.1:{dead}", "settings": {"security": "none",
                                                               "timeout_seconds": 2}})
    client.post("/v1/communication-channels", json={
        "name": "resilient", "channel": "email", "providers": ["smtp-down", "capture-b"]})
    message_id = add(client, communication_channel="resilient")
    dispatcher = runtime.dispatcher()
    dispatcher.step()
    moved = state(client, message_id)
    assert (moved["state"], moved["provider"]) == ("queued", "capture-b")
    failover = [e for e in moved["timeline"] if e["reason"].startswith("failover")]
    assert failover[0]["reason"] == "failover: smtp-down -> capture-b"
    assert "connect" in failover[0]["response"]
    dispatcher.step()
    sent = state(client, message_id)
    assert sent["state"] == "sent" and sent["attempts"] == 2
    raw = client.get(f"/v1/messages/{message_id}/raw").content
    assert f"Message-ID: {sent['message_id_header']}".encode() in raw


def test_failover_of_rule_messages_follows_the_channel(
        project_dir: Path, db_url: str, clock: FakeClock) -> None:
    from tests.helpers import make_runtime, order_confirmed
    dead = free_port()
    add_to_project(project_dir, f"""
[[providers]]
name = "capture-c"
channel = "email"
type = "capture"

[[communication_channels]]
name = "email-failover"
channel = "email"
providers = ["capture", "capture-c"]

[[provider_statuses]]
provider = "capture"
code = "250"
action = "failover"
description = "pretend the primary is down ({dead})"
""")
    rt = make_runtime(project_dir, db_url, clock)
    try:
        accepted = rt.ingestor.accept("acme", [_event(order_confirmed())], "test")
        (message_id,) = accepted[0].message_ids
        dispatcher = rt.dispatcher()
        dispatcher.step()
        dispatcher.step()
        message = rt.outbox.get("acme", message_id)
        assert (message["state"], message["provider"]) == ("sent", "capture-c")
    finally:
        rt.close()


def _event(doc: dict[str, Any]) -> Any:
    from tidings.ingest.service import InboundEvent
    return InboundEvent(doc["type"], doc["data"], doc["id"])


class TooMany:
    """A provider that answers 429 with Retry-After: 17."""

    name = "capture"
    max_batch = 100
    max_recipients = 10
    max_message_bytes = 1_000_000

    def __init__(self) -> None:
        self.calls = 0

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        self.calls += 1
        return [Deferred("HTTP 429: slow down", retry_after_seconds=17.0, code="429")
                for _ in envelopes]

    def close(self) -> None:
        return None


def test_429_defers_exactly_retry_after_and_pauses_every_worker(
        client: TestClient, runtime: Runtime, clock: FakeClock) -> None:
    client.patch("/v1/providers/capture", json={"rate_per_second": 50})
    provider = TooMany()
    first = add(client)
    one = _dispatcher(runtime, provider, 0)
    other = _dispatcher(runtime, provider, 1)
    sent_at = clock.now()
    one.step()
    message = state(client, first)
    assert message["state"] == "deferred"
    assert runtime.outbox.get("acme", first)["due_at"] == sent_at + timedelta(seconds=17)
    with runtime.engine.connect() as conn:
        blocked = conn.execute(select(tables_channels.rate_buckets.c.blocked_until)).scalar()
    assert blocked == sent_at + timedelta(seconds=17)
    add(client, to=["other@example.com"])                  # due now, but the vendor said wait
    assert other.step() == 0 and provider.calls == 1
    assert other.idle_wait_seconds == 17.0
    clock.advance(17)                 # the pause ends with one token; the bucket refills
    assert other.step() == 1 and provider.calls == 2
    clock.advance(0.02)
    assert other.step() == 0          # the 429 paused this worker again, for 17 s more


def _dispatcher(runtime: Runtime, provider: Provider, index: int) -> Any:
    from tidings.dispatch.dispatcher import Dispatcher
    return Dispatcher(runtime.outbox, {}, lambda name: provider, runtime.clock, f"w{index}",
                      control=runtime.delivery())


def test_message_timeline_and_state_columns(client: TestClient, runtime: Runtime) -> None:
    message_id = add(client, interval_min="00:00:00", interval_max="23:59:59",
                     communication_channel="mail", properties={"order": "SO-9"})
    with runtime.engine.connect() as conn:
        row = conn.execute(select(tables.messages).where(
            tables.messages.c.id == message_id)).one()
    assert (row.window_start, row.window_end, row.communication_channel) == (
        "00:00:00", "23:59:59", "mail")
    assert '"entity":"order"' in row.payload and '"SO-9"' in row.payload


def test_sms_channel_uses_the_channel_builder(client: TestClient, runtime: Runtime) -> None:
    client.post("/v1/channels", json={"name": "sms", "code": 2, "kind": "sms"})
    client.post("/v1/providers", json={"name": "sms-capture", "channel": "sms",
                                       "type": "capture", "settings": {"default_region": "DE"}})
    good = add(client, provider="sms-capture", to=["030 1234567"], body_text="Your parcel left")
    bad = add(client, provider="sms-capture", to=["12"], body_text="x")
    runtime.dispatcher().step()
    assert client.get(f"/v1/messages/{good}/raw").content == b"Your parcel left"
    refused = state(client, bad)
    assert refused["state"] == "failed" and "phone number" in refused["last_error"]
