"""Messages added by hand over the API, and the operator's objects over the API."""

from __future__ import annotations

import base64
import email
import email.policy
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tidings.clock import FakeClock
from tidings.runtime.core import Runtime
from tidings.storage import tables

PDF = base64.b64encode(b"%PDF-1.4\n% a tiny pdf\n").decode()


def add(client: TestClient, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"to": ["ada@example.com"], "subject": "Your statement",
                            "body_text": "Attached.", "communication_channel": "mail"}
    body.update(fields)
    answer = client.post("/v1/messages", json=body)
    assert answer.status_code in (200, 201), answer.text
    return dict(answer.json())


def test_held_until_its_window_opens_then_sent_in_bulk_steps(
        client: TestClient, runtime: Runtime, clock: FakeClock) -> None:
    """Acceptance: a hand-added message whose window opens in the future waits for it."""
    clock.set(datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
    assert client.patch("/v1/providers/capture", json={"bulk_size": 4}).status_code == 200
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    ids = [add(client, to=[f"c{i}@example.com"], start_at=start.isoformat(),
               end_at=(start + timedelta(days=2)).isoformat(),
               interval_min="10:00:00", interval_max="11:00:00")["id"] for i in range(10)]
    assert {m["state"] for m in client.get("/v1/messages").json()["messages"]} == {"queued"}
    dispatcher = runtime.dispatcher()
    assert dispatcher.step() == 0                                  # 06:00: before the start
    clock.set(start)
    assert dispatcher.step() == 0                                  # 09:00: started, window shut
    clock.set(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    assert [dispatcher.step() for _ in range(4)] == [4, 4, 2, 0]   # bulk steps of the provider
    assert runtime.outbox.counts("acme") == {"sent": 10}
    with runtime.engine.connect() as conn:
        captured = set(conn.execute(select(tables.captures.c.message_id)).scalars())
    assert captured == set(ids)


def test_window_wraps_midnight_and_a_late_message_waits_for_tomorrow(
        client: TestClient, runtime: Runtime, clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    add(client, interval_min="22:00:00", interval_max="02:00:00")
    dispatcher = runtime.dispatcher()
    assert dispatcher.step() == 0
    clock.set(datetime(2026, 3, 3, 1, 30, tzinfo=UTC))
    assert dispatcher.step() == 1


def test_email_with_cc_bcc_attachment_and_one_click_unsubscribe(
        client: TestClient, runtime: Runtime) -> None:
    answer = add(client, cc=["carl@example.com"], bcc=["boss@example.com"],
                 body_html="<p>Attached.</p>", list_unsubscribe=True,
                 attachments=[{"filename": "statement.pdf", "content_type": "application/pdf",
                               "content": PDF}])
    assert answer["state"] == "queued" and answer["provider"] == "capture"
    runtime.dispatcher().step()
    raw = client.get(f"/v1/messages/{answer['id']}/raw").content
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Cc"] == "carl@example.com" and parsed["Bcc"] is None
    assert parsed["Message-ID"] == answer["message_id"]
    assert parsed["List-Unsubscribe"].startswith("<http://127.0.0.1:8025/u/")
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    (attachment,) = list(parsed.iter_attachments())
    assert attachment.get_content() == base64.b64decode(PDF)


def test_idempotency_key_adds_one_message(client: TestClient) -> None:
    body = {"to": ["ada@example.com"], "subject": "x", "body_text": "y"}
    first = client.post("/v1/messages", json=body, headers={"Idempotency-Key": "k-1"})
    again = client.post("/v1/messages", json=body, headers={"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"


def test_refusals_point_at_the_field(client: TestClient) -> None:
    answer = client.post("/v1/messages", json={
        "to": ["nobody"], "subject": "x", "body_text": "y", "provider": "ghost"})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["pointer"] == "/provider"
    answer = client.post("/v1/messages", json={
        "to": ["a@example.com"], "subject": "x", "body_text": "y",
        "attachments": [{"filename": "a.pdf", "content_type": "application/pdf",
                         "content": base64.b64encode(b"MZ-exe").decode()}]})
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"pointer": "/attachments/0",
                                        "detail": "the content is not application/pdf"}]
    assert client.post("/v1/messages", json={"to": []}).status_code == 422
    assert client.post("/v1/messages", content=b"x",
                       headers={"content-type": "text/plain"}).status_code == 415


def test_operator_objects_over_the_api(client: TestClient) -> None:
    listed = client.get("/v1/providers").json()["providers"]
    assert [p["name"] for p in listed] == ["capture", "capture-b"]
    assert listed[0]["retry_interval"] == "00:01:00" and listed[0]["origin"] == "project"
    made = client.post("/v1/channels", json={"name": "sms", "code": 2, "kind": "sms"})
    assert made.status_code == 201
    assert client.post("/v1/channels", json={"name": "sms2", "code": 2,
                                             "kind": "sms"}).status_code == 409
    provider = client.post("/v1/providers", json={
        "name": "sms-http", "channel": "sms", "type": "capture", "service_url": "https://x",
        "user": "acct", "secret_env": "SMS_TOKEN", "rate_per_second": 5,
        "interval_min": "08:00:00", "interval_max": "20:00:00", "retry_interval": "00:00:30"})
    assert provider.status_code == 201, provider.text
    assert provider.json()["secret_env"] == "SMS_TOKEN" and provider.json()["origin"] == \
        "operator"
    clear = client.post("/v1/providers", json={"name": "leak", "channel": "sms",
                                               "type": "capture",
                                               "settings": {"password": "hunter2"}})
    assert clear.status_code == 422 and "password_env" in clear.text
    token = client.post("/v1/providers", json={"name": "leak", "channel": "sms",
                                               "type": "capture",
                                               "settings": {"auth_token": "hunter2"}})
    assert token.status_code == 422
    assert token.json()["errors"][0]["pointer"] == "/settings/auth_token"
    comm = client.post("/v1/communication-channels", json={
        "name": "texts", "channel": "sms", "providers": ["sms-http"], "entity": "customer"})
    assert comm.status_code == 201
    assert client.delete("/v1/providers/sms-http").status_code == 409
    statuses = client.get("/v1/providers/sms-http/statuses").json()["statuses"]
    assert {"250", "bounce", "delivered", "dropped"} <= {s["code"] for s in statuses}
    row = client.put("/v1/providers/sms-http/statuses/200",
                     json={"action": "fail", "description": "sandbox: not queued"})
    assert row.json() == {"provider": "sms-http", "code": "200", "action": "fail",
                          "description": "sandbox: not queued"}
    assert client.put("/v1/providers/sms-http/statuses/200",
                      json={"action": "maybe"}).status_code == 422
    assert client.delete("/v1/providers/sms-http/statuses/200").status_code == 204
    assert client.delete("/v1/providers/sms-http/statuses/200").status_code == 404
    assert client.delete("/v1/communication-channels/texts").status_code == 204
    assert client.delete("/v1/providers/sms-http").status_code == 204
    assert client.get("/v1/providers/sms-http").status_code == 404
    assert client.get("/v1/channels", headers={"Authorization": ""}).status_code == 401
