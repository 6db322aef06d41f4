"""The exceptions list: filters, sort by lateness, pagination, CSV export, bad parameters; and
order events arriving through the normal event ingest."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.integration.sla.factories import RETAILER, SUPPLIER, order_event
from tidings.clock import FakeClock
from tidings.runtime.core import Runtime

START = datetime(2026, 7, 6, 12, 0, tzinfo=UTC)  # Monday
RULES = {"ack": {"obligation": "acknowledge", "deadline": {"hours": 1}, "is_default": True},
         "ship": {"obligation": "ship", "deadline": {"hours": 10}, "is_default": True}}


def seed(client: TestClient, runtime: Runtime, clock: FakeClock) -> None:
    """Orders PO-0..PO-5 submitted an hour apart to two retailers and two suppliers; at
    START + 20 h every ack and ship is overdue, PO-0's the most."""
    for retailer in (RETAILER, "other-shop"):
        client.put(f"/v1/sla/retailers/{retailer}/calendar", json={"timezone": "UTC",
                                                                   "working_days": list(range(7))})
        for rule_id, rule in RULES.items():
            client.put(f"/v1/sla/retailers/{retailer}/rules/{rule_id}", json=rule)
    for n in range(6):
        clock.set(START + timedelta(hours=n))
        client.post("/v1/orders/events", json=order_event(
            "order.submitted", f"PO-{n}", RETAILER if n % 2 == 0 else "other-shop",
            SUPPLIER if n < 4 else "cozy-hats"))
    clock.set(START + timedelta(hours=20))
    runtime.sla.timers.drain()


def refs(response_json: dict[str, list[dict[str, str]]]) -> list[str]:
    return [f"{e['order_ref']}/{e['obligation']}" for e in response_json["exceptions"]]


def test_filters_sort_and_pages(client: TestClient, runtime: Runtime, clock: FakeClock) -> None:
    seed(client, runtime, clock)
    everything = client.get("/v1/sla/exceptions", params={"limit": 500}).json()
    assert len(everything["exceptions"]) == 12 and everything["next_offset"] is None
    lateness = [e["lateness_seconds"] for e in everything["exceptions"]]
    assert lateness == sorted(lateness, reverse=True)
    assert refs(everything) == [f"PO-{n}/acknowledge" for n in range(6)] + \
        [f"PO-{n}/ship" for n in range(6)]
    assert everything["exceptions"][0]["lateness_seconds"] == 19 * 3600  # PO-0 ack: due 13:00

    assert refs(client.get("/v1/sla/exceptions", params={"sort": "-lateness", "limit": 1}
                           ).json()) == ["PO-5/ship"]
    ship = client.get("/v1/sla/exceptions", params={"obligation": "ship",
                                                    "supplier": SUPPLIER}).json()
    assert refs(ship) == ["PO-0/ship", "PO-1/ship", "PO-2/ship", "PO-3/ship"]
    mine = client.get("/v1/sla/exceptions", params={"retailer": "other-shop",
                                                    "obligation": "acknowledge"}).json()
    assert refs(mine) == ["PO-1/acknowledge", "PO-3/acknowledge", "PO-5/acknowledge"]
    # age = hours past the deadline: ship deadlines are START+10h .. START+15h
    aged = client.get("/v1/sla/exceptions", params={"obligation": "ship", "min_age_hours": 7.5,
                                                    "max_age_hours": 9.5}).json()
    assert refs(aged) == ["PO-1/ship", "PO-2/ship"]

    pages, offset = [], 0
    while offset is not None:
        page = client.get("/v1/sla/exceptions", params={"limit": 5, "offset": offset}).json()
        pages.append(refs(page))
        offset = page["next_offset"]
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [ref for page in pages for ref in page] == refs(everything)


def test_resolved_ones_sort_by_their_final_lateness(client: TestClient, runtime: Runtime,
                                                    clock: FakeClock) -> None:
    seed(client, runtime, clock)
    clock.set(START + timedelta(hours=21))
    client.post("/v1/orders/events", json=order_event("order.acknowledged", "PO-4",
                                                      supplier="cozy-hats",
                                                      at=(START + timedelta(hours=6)).isoformat()))
    client.post("/v1/orders/events", json=order_event("order.acknowledged", "PO-2",
                                                      at=(START + timedelta(hours=20)).isoformat()))
    resolved = client.get("/v1/sla/exceptions", params={"status": "resolved"}).json()
    assert refs(resolved) == ["PO-2/acknowledge", "PO-4/acknowledge"]
    assert [e["lateness_seconds"] for e in resolved["exceptions"]] == [17 * 3600, 1 * 3600]
    mixed = client.get("/v1/sla/exceptions", params={"status": "all",
                                                     "obligation": "acknowledge"}).json()
    assert refs(mixed)[0] == "PO-0/acknowledge" and refs(mixed)[-1] == "PO-4/acknowledge"


def test_csv_export_and_its_escaping(client: TestClient, runtime: Runtime,
                                     clock: FakeClock) -> None:
    seed(client, runtime, clock)
    client.post("/v1/orders/events", json=order_event("order.submitted", "=HYPERLINK(1)"))
    clock.advance(timedelta(hours=2))
    runtime.sla.timers.drain()
    r = client.get("/v1/sla/exceptions.csv", params={"obligation": "acknowledge"})
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="exceptions.csv"'
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 7
    assert rows[0]["order_ref"] == "PO-0" and rows[0]["lateness_hours"] == "21.00"
    assert rows[-1]["order_ref"] == "'=HYPERLINK(1)"


def test_bad_parameters_are_named(client: TestClient) -> None:
    for params, pointer in (({"status": "closed"}, "/status"), ({"sort": "size"}, "/sort"),
                            ({"obligation": "dance"}, "/obligation"),
                            ({"min_age_hours": -1}, "/min_age_hours")):
        r = client.get("/v1/sla/exceptions", params=params)
        assert r.status_code == 422, params
        assert r.json()["errors"][0]["pointer"] == pointer
    assert client.get("/v1/sla/exceptions", params={"limit": 501}).status_code == 422
    assert client.get("/v1/sla/performance", params={"from_week": "2026-7"}).status_code == 422
    assert client.get("/v1/sla/exceptions/999").status_code == 404


def test_order_events_through_the_normal_ingest(client: TestClient, runtime: Runtime,
                                                clock: FakeClock) -> None:
    for rule_id, rule in RULES.items():
        client.put(f"/v1/sla/retailers/{RETAILER}/rules/{rule_id}", json=rule)
    clock.set(START)
    event = order_event("order.submitted", "PO-77", event_id="edi-850-1")
    r = client.post("/v1/events", json=event)
    assert r.status_code == 202, r.text
    assert client.post("/v1/events", json=event).json()["events"][0]["duplicate"] is True
    [order] = client.get("/v1/orders").json()["orders"]
    detail = client.get(f"/v1/orders/{order['id']}").json()
    assert [t["type"] for t in detail["timeline"]].count("order.submitted") == 1
    assert {o["obligation"] for o in detail["obligations"]} == {"acknowledge", "ship"}
    r = client.post("/v1/events", json=order_event("order.acknowledged", "PO-77",
                                                   retailer="ISA-SENDER"))
    assert r.status_code == 202
    states = {o["obligation"]: o["state"]
              for o in client.get(f"/v1/orders/{order['id']}").json()["obligations"]}
    assert states == {"acknowledge": "met", "ship": "open"}
    bad = client.post("/v1/events", json={"type": "order.invoiced", "data": {"order": {}}})
    assert bad.status_code == 422  # the project's schema refuses it before SLA tracking


def test_a_customer_notification_of_the_same_type_is_left_alone(client: TestClient) -> None:
    event = {"type": "order.shipped", "data": {
        "order": {"id": "SO-1", "status": "shipped"},
        "customer": {"name": "Ada", "email": "ada@example.com"},
        "shipment": {"carrier": "UPS", "tracking_number": "1Z",
                     "tracking_url": "https://ups.example/1Z"}}}
    r = client.post("/v1/events", json=event)
    assert r.status_code == 202, r.text
    assert len(r.json()["events"][0]["messages"]) == 1  # the notification still goes out
    assert client.get("/v1/orders").json()["orders"] == []
