"""POST /v1/events: the happy path, every documented error, idempotency."""

from __future__ import annotations

import threading
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.helpers import order_confirmed
from tidings.runtime.core import Runtime

PROBLEM = "application/problem+json"


def queued(runtime: Runtime) -> int:
    return sum(runtime.outbox.counts("acme").values())


def test_single_event_is_committed_before_202(client: TestClient, runtime: Runtime) -> None:
    answer = client.post("/v1/events", json=order_confirmed())
    assert answer.status_code == 202, answer.text
    (event,) = answer.json()["events"]
    assert event["duplicate"] is False and len(event["messages"]) == 1
    message = runtime.outbox.get("acme", event["messages"][0])
    assert message["state"] == "queued" and message["recipient"] == "ada@example.com"
    assert message["subject"] == "Your order SO-1 is confirmed"
    assert 'style="' in message["body_html"]              # CSS inlined
    assert "1 x Two-person tent" in message["body_text"]   # its own text part


def test_text_part_derived_from_html_when_absent(client: TestClient, runtime: Runtime) -> None:
    answer = client.post("/v1/events", json=order_confirmed(total=900.0))
    alert = max(answer.json()["events"][0]["messages"])
    message = runtime.outbox.get("acme", alert)
    assert message["template"] == "big_order_alert"
    assert "<" not in message["body_text"] and "Two-person tent" in message["body_text"]


def test_batch_and_routing(client: TestClient, runtime: Runtime) -> None:
    events = [order_confirmed(f"SO-{i}", email=f"c{i}@example.com") for i in range(3)]
    events.append(order_confirmed("SO-BIG", total=900.0))   # also alerts sales
    answer = client.post("/v1/events", json={"events": events})
    assert answer.status_code == 202
    assert [len(e["messages"]) for e in answer.json()["events"]] == [1, 1, 1, 2]
    assert queued(runtime) == 5


def test_locale_fallback(client: TestClient, runtime: Runtime) -> None:
    ids = [client.post("/v1/events", json=order_confirmed(f"SO-{loc}", locale=loc))
           .json()["events"][0]["messages"][0] for loc in ("de-AT", "fr")]
    subjects = [runtime.outbox.get("acme", i)["subject"] for i in ids]
    assert subjects == ["Ihre Bestellung SO-de-AT ist bestätigt", "Your order SO-fr is confirmed"]


def test_same_event_id_is_a_duplicate(client: TestClient, runtime: Runtime) -> None:
    first = client.post("/v1/events", json=order_confirmed()).json()["events"][0]
    again = client.post("/v1/events", json=order_confirmed()).json()["events"][0]
    assert again["duplicate"] is True and again["messages"] == first["messages"]
    assert queued(runtime) == 1


def _bad(client: TestClient, body: bytes, content_type: str = "application/json",
         headers: dict[str, str] | None = None) -> Any:
    return client.post("/v1/events", content=body,
                       headers={"Content-Type": content_type, **(headers or {})})


def _event_bytes(**kw: Any) -> bytes:
    return orjson.dumps(order_confirmed(**kw))


INJECTED = order_confirmed(email="ada@example.com\r\nBcc: all@evil.test")
ENCODED = order_confirmed(email="=?utf-8?q?ada=0D=0ABcc=3A_x=40evil=2Etest?= <ada@example.com>")
UNKNOWN = {**order_confirmed(), "type": "order.teleported"}
NO_CUSTOMER = {"type": "order.confirmed", "data": {"order": order_confirmed()["data"]["order"]}}
BAD_QTY = order_confirmed()
BAD_QTY["data"]["order"]["lines"][0]["qty"] = 0


@pytest.mark.parametrize(("body", "content_type", "status", "slug", "pointer"), [
    (b'{"type": "order.confirmed", ', "application/json", 400, "malformed-json", None),
    (_event_bytes(), "text/plain", 415, "unsupported-media-type", None),
    (_event_bytes(), "application/x-www-form-urlencoded", 415, "unsupported-media-type", None),
    (orjson.dumps(UNKNOWN), "application/json", 422, "invalid-events", "/type"),
    (orjson.dumps(NO_CUSTOMER), "application/json", 422, "invalid-events", "/data"),
    (orjson.dumps(BAD_QTY), "application/json", 422, "invalid-events", "/data/order/lines/0/qty"),
    (orjson.dumps(INJECTED), "application/json", 422, "invalid-events", "/data/customer/email"),
    (orjson.dumps(ENCODED), "application/json", 422, "invalid-events", "/data"),
    (b'{"type": "order.confirmed", "data": [], "colour": 1}', "application/json", 422,
     "invalid-events", "/colour"),
    (b"[]", "application/json", 422, "invalid-events", None),
])
def test_bad_input_gets_problem_and_queues_nothing(client: TestClient, runtime: Runtime,
                                                   body: bytes, content_type: str, status: int,
                                                   slug: str, pointer: str | None) -> None:
    answer = _bad(client, body, content_type)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["status"] == status and problem["type"].endswith("/" + slug)
    if pointer is not None:
        assert pointer in [e["pointer"] for e in problem["errors"]], problem
    assert queued(runtime) == 0


def test_one_bad_event_in_a_batch_queues_none(client: TestClient, runtime: Runtime) -> None:
    batch = {"events": [order_confirmed("SO-1"), BAD_QTY, order_confirmed("SO-3")]}
    answer = client.post("/v1/events", json=batch)
    assert answer.status_code == 422
    assert [e["pointer"] for e in answer.json()["errors"]] == ["/events/1/data/order/lines/0/qty"]
    assert queued(runtime) == 0


def test_oversized_body(client: TestClient, runtime: Runtime) -> None:
    limit = runtime.settings.max_body_bytes
    answer = _bad(client, b'{"type":"x","data":{"pad":"' + b"a" * limit + b'"}}')
    assert answer.status_code == 413 and answer.headers["content-type"] == PROBLEM
    chunked = client.post("/v1/events", content=iter([b"[", b" " * limit, b"]"]),
                          headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413
    assert queued(runtime) == 0


def test_no_or_wrong_key(client: TestClient) -> None:
    for value in ("", "Bearer tdg_nope_nope", "Bearer garbage"):
        answer = client.post("/v1/events", json=order_confirmed(), headers={"Authorization": value})
        assert answer.status_code == 401 and answer.headers["content-type"] == PROBLEM


def test_idempotency_key_replays_and_refuses_other_body(client: TestClient,
                                                        runtime: Runtime) -> None:
    headers = {"Idempotency-Key": "k-1"}
    first = client.post("/v1/events", json=order_confirmed("SO-1"), headers=headers)
    replay = client.post("/v1/events", json=order_confirmed("SO-1"), headers=headers)
    assert first.status_code == replay.status_code == 202
    assert replay.content == first.content and replay.headers["idempotent-replayed"] == "true"
    other = client.post("/v1/events", json=order_confirmed("SO-2"), headers=headers)
    assert other.status_code == 422 and other.json()["type"].endswith("idempotency-key-reused")
    assert queued(runtime) == 1


def test_idempotency_keys_are_per_tenant(client: TestClient, runtime: Runtime) -> None:
    runtime.idempotency.begin("other-tenant", "k-2", "f" * 64, runtime.clock.now())
    answer = client.post("/v1/events", json=order_confirmed(), headers={"Idempotency-Key": "k-2"})
    assert answer.status_code == 202


def test_rejected_request_releases_its_key(client: TestClient) -> None:
    headers = {"Idempotency-Key": "k-3"}
    assert client.post("/v1/events", json=BAD_QTY, headers=headers).status_code == 422
    assert client.post("/v1/events", json=order_confirmed(), headers=headers).status_code == 202


def test_in_flight_key_gets_409(client: TestClient, runtime: Runtime,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    entered, release = threading.Event(), threading.Event()
    original = runtime.ingestor.accept

    def slow_accept(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(runtime.ingestor, "accept", slow_accept)
    headers = {"Idempotency-Key": "k-4"}
    results: list[int] = []
    first = threading.Thread(target=lambda: results.append(
        client.post("/v1/events", json=order_confirmed(), headers=headers).status_code))
    first.start()
    assert entered.wait(10)
    second = client.post("/v1/events", json=order_confirmed(), headers=headers)
    release.set()
    first.join(10)
    assert second.status_code == 409 and second.headers["retry-after"] == "1"
    assert results == [202]


def test_idempotency_keys_kept_24_hours(client: TestClient, runtime: Runtime) -> None:
    from datetime import timedelta

    headers = {"Idempotency-Key": "k-5"}
    client.post("/v1/events", json=order_confirmed(), headers=headers)
    runtime.clock.advance(timedelta(hours=23, minutes=59))  # type: ignore[attr-defined]
    runtime.maintain()
    assert client.post("/v1/events", json=order_confirmed("SO-9"),
                       headers=headers).status_code == 422
    runtime.clock.advance(timedelta(minutes=2))  # type: ignore[attr-defined]
    runtime.maintain()
    assert client.post("/v1/events", json=order_confirmed("SO-9"),
                       headers=headers).status_code == 202


def test_openapi_is_served(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert "/v1/events" in doc["paths"] and "Event" in doc["components"]["schemas"]
