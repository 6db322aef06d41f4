"""Messages API: list with filters, detail with timeline, raw copy, operator actions."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import order_confirmed
from tidings.runtime.core import Runtime


def _post(client: TestClient, n: int) -> list[int]:
    events = [order_confirmed(f"SO-{i}", email=f"c{i}@example.com") for i in range(n)]
    answer = client.post("/v1/events", json={"events": events})
    return [m for e in answer.json()["events"] for m in e["messages"]]


def test_list_filter_and_page(client: TestClient) -> None:
    ids = _post(client, 5)
    page = client.get("/v1/messages", params={"limit": 2}).json()
    assert [m["id"] for m in page["messages"]] == sorted(ids, reverse=True)[:2]
    rest = client.get("/v1/messages", params={"limit": 10, "before": page["next"]}).json()
    assert len(rest["messages"]) == 3 and rest["next"] is None
    one = client.get("/v1/messages", params={"recipient": "c3@example.com"}).json()["messages"]
    assert len(one) == 1
    assert client.get("/v1/messages", params={"state": "sent"}).json()["messages"] == []
    assert client.get("/v1/messages", params={"state": "bogus"}).status_code == 422


def test_actions_and_timeline(client: TestClient, runtime: Runtime) -> None:
    (mid,) = _post(client, 1)
    assert client.post(f"/v1/messages/{mid}/hold").json()["state"] == "held"
    conflict = client.post(f"/v1/messages/{mid}/hold")
    assert conflict.status_code == 409 and conflict.headers["content-type"].startswith(
        "application/problem+json")
    assert client.post(f"/v1/messages/{mid}/release").json()["state"] == "queued"
    assert client.post(f"/v1/messages/{mid}/cancel").json()["state"] == "cancelled"
    assert client.post(f"/v1/messages/{mid}/requeue").json()["state"] == "queued"
    detail = client.get(f"/v1/messages/{mid}").json()
    assert [e["to_state"] for e in detail["timeline"]] == [
        "queued", "held", "queued", "cancelled", "queued"]
    assert client.post(f"/v1/messages/{mid}/explode").status_code == 422


def test_raw_after_capture_and_tenant_scoping(client: TestClient, runtime: Runtime) -> None:
    (mid,) = _post(client, 1)
    assert client.get(f"/v1/messages/{mid}/raw").status_code == 404   # not sent yet
    runtime.dispatcher().step()
    raw = client.get(f"/v1/messages/{mid}/raw")
    assert raw.status_code == 200 and raw.headers["content-type"] == "message/rfc822"
    assert b"Subject: Your order SO-0 is confirmed" in raw.content
    other = runtime.keys.create("globex", "x", runtime.clock.now())
    for path in (f"/v1/messages/{mid}", f"/v1/messages/{mid}/raw"):
        assert client.get(path, headers={"Authorization": f"Bearer {other}"}).status_code == 404
    assert client.post(f"/v1/messages/{mid}/cancel",
                       headers={"Authorization": f"Bearer {other}"}).status_code == 404


def test_preview(client: TestClient) -> None:
    data = order_confirmed()["data"]
    answer = client.post("/v1/templates/order_confirmed/preview",
                         json={"data": data, "locale": "de"})
    assert answer.status_code == 200
    assert answer.json()["subject"] == "Ihre Bestellung SO-1 ist bestätigt"
    assert client.post("/v1/templates/nope/preview", json={"data": {}}).status_code == 404
    broken = client.post("/v1/templates/order_confirmed/preview", json={"data": {}})
    assert broken.status_code == 422 and "render" in broken.json()["type"]
