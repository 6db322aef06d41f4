"""Orders through the engine with an injected clock: deadlines, warnings, exceptions,
resolution, cancellation, partial shipments and rule changes.

Expected instants are read off a calendar, not computed by the code under test:
- 2026-07-03 (Fri) is the observed US Independence Day; 2026-07-04/05 is a weekend.
- New York is on EDT (UTC-4) in July; Berlin changes from CET to CEST on Sun 2026-03-29.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.integration.sla.factories import RETAILER, SUPPLIER, order_event
from tidings.clock import FakeClock
from tidings.runtime.core import Runtime

NY_CALENDAR = {"timezone": "America/New_York", "working_days": [0, 1, 2, 3, 4],
               "holidays_country": "US", "cutoff": "14:00"}
RULES = {
    "ack": {"obligation": "acknowledge", "deadline": {"business_days": 1}, "is_default": True},
    "ship": {"obligation": "ship", "deadline": {"business_days": 2}, "is_default": True,
             "warn_at_fraction": 0.5},
    "ship-express": {"obligation": "ship", "deadline": {"business_days": 0}, "priority": 10,
                     "condition": "has(order.ship_method) && order.ship_method == 'express'"},
    "invoice": {"obligation": "invoice", "deadline": {"hours": 24}, "is_default": True},
    "cancel": {"obligation": "answer_cancel", "deadline": {"hours": 4}, "is_default": True},
}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def setup_rules(client: TestClient, calendar: dict[str, Any] | None = None,
                rules: dict[str, Any] | None = None) -> None:
    r = client.put(f"/v1/sla/retailers/{RETAILER}/calendar", json=calendar or NY_CALENDAR)
    assert r.status_code == 200, r.text
    for rule_id, rule in (rules or RULES).items():
        r = client.put(f"/v1/sla/retailers/{RETAILER}/rules/{rule_id}", json=rule)
        assert r.status_code == 200, r.text


def post(client: TestClient, *events: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.post("/v1/orders/events", json={"events": list(events)})
    assert r.status_code == 200, r.text
    return list(r.json()["events"])


def obligations(client: TestClient, order_id: int) -> dict[str, dict[str, Any]]:
    r = client.get(f"/v1/orders/{order_id}")
    assert r.status_code == 200, r.text
    return {o["obligation"]: o for o in r.json()["obligations"]}


def exceptions(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/v1/sla/exceptions", params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["exceptions"])


def fire(runtime: Runtime) -> tuple[int, int]:
    fired = runtime.sla.timers.drain()
    return fired.warnings, fired.overdue


def test_after_cutoff_before_a_holiday_weekend(client: TestClient, runtime: Runtime,
                                               clock: FakeClock) -> None:
    setup_rules(client)
    clock.set(utc("2026-07-02T15:00:00-04:00"))  # Thursday, after the 14:00 cut-off
    [recorded] = post(client, order_event("order.submitted", "PO-1", at=clock.now().isoformat()))
    due = obligations(client, recorded["order_id"])
    # Clock starts Mon 6 July (Fri 3 is a holiday); day 0 Mon, 1 Tue, 2 Wed; ends at cut-off.
    assert utc(due["ship"]["due_at"]) == utc("2026-07-08T14:00:00-04:00")
    assert utc(due["acknowledge"]["due_at"]) == utc("2026-07-07T14:00:00-04:00")

    clock.set(utc("2026-07-07T13:59:59-04:00"))
    assert fire(runtime) == (2, 0)  # ack at 80%, ship at 50%: both warned, none overdue
    assert exceptions(client) == []
    assert len(exceptions(client, kind="warning")) == 2

    clock.set(utc("2026-07-07T14:00:00-04:00"))  # exclusive: at the deadline it is late
    assert fire(runtime) == (0, 1)
    [late] = exceptions(client)
    assert (late["obligation"], late["order_ref"], late["retailer"], late["supplier"]) == \
        ("acknowledge", "PO-1", RETAILER, SUPPLIER)
    assert late["lateness_seconds"] == 0

    clock.set(utc("2026-07-07T16:00:00-04:00"))
    [late] = exceptions(client)
    assert late["lateness_seconds"] == 7200
    post(client, order_event("order.acknowledged", "PO-1", at=clock.now().isoformat()))
    assert exceptions(client) == []
    [resolved] = exceptions(client, status="resolved")
    assert resolved["late_seconds"] == 7200 and resolved["met_at"] is not None

    clock.set(utc("2026-07-08T13:00:00-04:00"))
    post(client, order_event("order.shipped", "PO-1", at=clock.now().isoformat(),
                             shipment={"tracking_numbers": ["1Z1"]}))
    ship = obligations(client, recorded["order_id"])["ship"]
    assert ship["state"] == "met" and ship["late_seconds"] == -3600
    invoice = obligations(client, recorded["order_id"])["invoice"]
    assert utc(invoice["due_at"]) == utc("2026-07-09T13:00:00-04:00")  # 24 real hours


def test_express_rule_wins_by_priority_and_dst_is_respected(client: TestClient,
                                                            clock: FakeClock) -> None:
    setup_rules(client, {"timezone": "Europe/Berlin", "cutoff": "14:00",
                         "holidays_country": "DE"})
    clock.set(utc("2026-03-27T10:00:00+01:00"))  # Friday, CET
    [standard, express] = post(
        client, order_event("order.submitted", "PO-STD", at=clock.now().isoformat()),
        order_event("order.submitted", "PO-EXP", at=clock.now().isoformat(),
                    order={"ship_method": "express"}))
    # 2 business days: Fri (0), Mon 30 (1), Tue 31 (2) at 14:00 CEST, after the DST change.
    assert utc(obligations(client, standard["order_id"])["ship"]["due_at"]) == \
        utc("2026-03-31T14:00:00+02:00")
    express_ship = obligations(client, express["order_id"])["ship"]
    assert express_ship["rule"] == "ship-express"
    assert utc(express_ship["due_at"]) == utc("2026-03-27T14:00:00+01:00")


def test_partial_shipments_keep_tracking_and_meet_only_when_complete(
        client: TestClient, clock: FakeClock) -> None:
    setup_rules(client)
    clock.set(utc("2026-07-06T09:00:00-04:00"))
    lines = [{"sku": "A", "qty": 2, "price": 5}, {"sku": "B", "qty": 1, "price": 3}]
    [order] = post(client, order_event("order.submitted", "PO-2", order={"lines": lines}))
    post(client, order_event("order.shipped", "PO-2", event_id="asn-1",
                             shipment={"tracking_numbers": ["T1"], "lines": [
                                 {"sku": "A", "qty": 2}]}))
    assert obligations(client, order["order_id"])["ship"]["state"] == "open"
    assert "invoice" not in obligations(client, order["order_id"])
    again = post(client, order_event("order.shipped", "PO-2", event_id="asn-1"))
    assert again[0]["duplicate"] is True
    post(client, order_event("order.shipped", "PO-2", event_id="asn-2",
                             shipment={"tracking_numbers": ["T2"], "lines": [
                                 {"sku": "B", "qty": 1}]}))
    detail = client.get(f"/v1/orders/{order['order_id']}").json()
    assert detail["status"] == "shipped"
    assert detail["details"]["tracking_numbers"] == ["T1", "T2"]
    assert detail["details"]["order"]["total"] == 13.0
    assert [o["state"] for o in detail["obligations"] if o["obligation"] == "ship"] == ["met"]
    assert [t["type"] for t in detail["timeline"]].count("order.shipped") == 2


def test_accepted_cancellation_closes_everything(client: TestClient, runtime: Runtime,
                                                 clock: FakeClock) -> None:
    setup_rules(client)
    clock.set(utc("2026-07-06T09:00:00-04:00"))
    [order] = post(client, order_event("order.submitted", "PO-3"))
    clock.advance(timedelta(days=3))
    fire(runtime)
    assert {e["obligation"] for e in exceptions(client)} == {"acknowledge", "ship"}
    post(client, order_event("order.cancel_requested", "PO-3", reason_code="CUSTOMER"))
    assert "answer_cancel" in obligations(client, order["order_id"])
    bad = client.post("/v1/orders/events", json=order_event("order.cancel_answered", "PO-3"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/0/data/answer"
    post(client, order_event("order.cancel_answered", "PO-3", answer="accepted",
                             reason_code="OK"))
    detail = client.get(f"/v1/orders/{order['order_id']}").json()
    assert detail["status"] == "cancelled"
    states = {o["obligation"]: o["state"] for o in detail["obligations"]}
    assert states == {"acknowledge": "cancelled", "ship": "cancelled", "answer_cancel": "met"}
    assert exceptions(client) == []
    assert len(exceptions(client, status="cancelled")) == 2


def test_a_rule_change_moves_open_deadlines(client: TestClient, runtime: Runtime,
                                            clock: FakeClock) -> None:
    setup_rules(client)
    clock.set(utc("2026-07-06T09:00:00-04:00"))  # Monday
    [order] = post(client, order_event("order.submitted", "PO-4"))
    clock.set(utc("2026-07-09T09:00:00-04:00"))  # Thursday: ship was due Wed 14:00
    fire(runtime)
    assert {e["obligation"] for e in exceptions(client)} == {"acknowledge", "ship"}

    r = client.put(f"/v1/sla/retailers/{RETAILER}/rules/ship",
                   json={**RULES["ship"], "deadline": {"business_days": 5}})
    assert r.json()["reevaluated"]["rescheduled"] == 1
    ship = obligations(client, order["order_id"])["ship"]
    assert utc(ship["due_at"]) == utc("2026-07-13T14:00:00-04:00")  # Mon (5 days after Mon)
    assert ship["stage"] == "warned"  # 50% of the new window has passed: the warning stays
    assert {e["obligation"] for e in exceptions(client)} == {"acknowledge"}
    assert [e["obligation"] for e in exceptions(client, status="cancelled")] == ["ship"]

    r = client.put(f"/v1/sla/retailers/{RETAILER}/rules/ship", json=RULES["ship"])
    assert fire(runtime) == (0, 1)  # due again in the past: the timer fires at once
    assert {e["obligation"] for e in exceptions(client)} == {"acknowledge", "ship"}

    client.delete(f"/v1/sla/retailers/{RETAILER}/rules/ack")
    assert obligations(client, order["order_id"])["acknowledge"]["state"] == "cancelled"


def test_performance_per_supplier_retailer_obligation_and_week(
        client: TestClient, runtime: Runtime, clock: FakeClock) -> None:
    setup_rules(client, rules={"ack": RULES["ack"]})
    clock.set(utc("2026-07-06T09:00:00-04:00"))
    post(client, *[order_event("order.submitted", f"PO-{n}") for n in range(4)])
    # due Tue 7 July 14:00 EDT: two on time, one 2 h late, one 4 h late, and PO-9 never
    post(client, order_event("order.acknowledged", "PO-0", at="2026-07-06T10:00:00-04:00"),
         order_event("order.acknowledged", "PO-1", at="2026-07-07T13:59:59-04:00"),
         order_event("order.acknowledged", "PO-2", at="2026-07-07T16:00:00-04:00"))
    post(client, order_event("order.submitted", "PO-9"))
    clock.set(utc("2026-07-07T18:00:00-04:00"))
    fire(runtime)
    post(client, order_event("order.acknowledged", "PO-3", at="2026-07-07T18:00:00-04:00"))
    [row] = client.get("/v1/sla/performance").json()["rows"]
    assert row == {"supplier": SUPPLIER, "retailer": RETAILER, "obligation": "acknowledge",
                   "week": "2026-W28", "decided": 5, "on_time": 2, "late": 3,
                   "open_overdue": 1, "on_time_pct": 40.0, "avg_delay_hours": 3.0}
