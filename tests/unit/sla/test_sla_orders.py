"""Order events and the lifecycle plan: parsing (API and X12 shapes), facts, which
obligations an event meets, cancels and starts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tidings.formats import records, x12
from tidings.sla import calendar, orders, rulebook

NOW = datetime(2026, 7, 6, 13, 0, tzinfo=UTC)  # Monday 09:00 in New York
X12_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "formats" / "x12"
BOOK = rulebook.book_of("r1", {"timezone": "America/New_York", "cutoff": "14:00"}, [
    ("ack", {"obligation": "acknowledge", "deadline": {"business_days": 1}, "is_default": True}),
    ("ship", {"obligation": "ship", "deadline": {"business_days": 2}, "is_default": True}),
    ("ship-big", {"obligation": "ship", "deadline": {"business_days": 4}, "priority": 1,
                  "condition": "order.total >= 100.0"}),
    ("invoice", {"obligation": "invoice", "deadline": {"hours": 24}, "is_default": True}),
    ("cancel", {"obligation": "answer_cancel", "deadline": {"hours": 4}, "is_default": True}),
], 1)


def event(kind: str, **data: Any) -> orders.OrderEvent:
    order = {"id": "PO-1", "retailer": {"id": "r1", "name": "R"}, "supplier": "s1",
             **data.pop("order", {})}
    return orders.parse(kind, {"order": order, **data})


def run(ev: orders.OrderEvent, details: dict[str, Any] | None = None,
        open_: list[orders.OpenObligation] | None = None,
        ever: frozenset[str] = frozenset()) -> orders.Plan:
    return orders.plan(ev, details or {}, open_ or [], ever, BOOK, NOW)


@pytest.mark.parametrize(("kind", "data", "pointer"), [
    ("order.made", {"order": {"id": "1"}}, "/type"),
    ("order.submitted", {}, "/order"),
    ("order.submitted", {"order": {"id": ""}}, "/order/id"),
    ("order.submitted", {"order": {"id": "x" * 129}}, "/order/id"),
    ("order.submitted", {"order": {"id": "1", "retailer": "r"}}, "/order"),
    ("order.shipped", {"order": {"id": "1", "supplier": {"name": "no id"}}}, "/order/supplier/id"),
    ("order.shipped", {"order": {"id": "1"}, "occurred_at": "2026-07-06T10:00:00"},
     "/occurred_at"),
    ("order.shipped", {"order": {"id": "1"}, "occurred_at": "yesterday"}, "/occurred_at"),
    ("order.shipped", {"order": {"id": "1"}, "shipment": {"complete": "yes"}},
     "/shipment/complete"),
    ("order.cancel_answered", {"order": {"id": "1"}, "answer": "maybe"}, "/answer"),
    ("order.return_answered", {"order": {"id": "1"}}, "/answer"),
])
def test_invalid_events_name_the_field(kind: str, data: dict[str, Any], pointer: str) -> None:
    with pytest.raises(orders.OrderEventError) as info:
        orders.parse(kind, data)
    assert info.value.pointer == pointer


def test_parties_and_times() -> None:
    ev = orders.parse("order.acknowledged", {
        "order": {"id": 4711, "retailer": "r1", "supplier": {"id": "s1"}},
        "occurred_at": "2026-07-06T10:00:00-04:00",
        "answer": {"status": "accepted", "reason_code": "X"}})
    assert (ev.order_ref, ev.retailer, ev.supplier) == ("4711", "r1", "s1")
    assert ev.occurred_at == datetime(2026, 7, 6, 14, 0, tzinfo=UTC)
    assert ev.summary == {"reason_code": "X", "status": "accepted"}


def test_submitted_starts_ack_and_ship_with_the_matching_rule() -> None:
    plan = run(event("order.submitted", order={"lines": [{"sku": "A", "qty": 10,
                                                           "price": 12.5}]}))
    assert plan.status == "submitted"
    assert plan.details["order"]["total"] == 125.0
    assert plan.details["order"]["retailer"] == "r1"
    assert [(s.obligation.value, s.rule.id) for s in plan.starts] == \
        [("acknowledge", "ack"), ("ship", "ship-big")]
    ship = plan.starts[1]
    # Mon 6 Jul 09:00 EDT: day 0 Mon .. day 4 Fri 10 Jul, at the 14:00 cut-off.
    assert ship.due_at == datetime(2026, 7, 10, 18, 0, tzinfo=UTC)
    assert ship.due_week == "2026-W28"


def test_no_matching_rule_is_noted_not_started() -> None:
    book = rulebook.book_of("r1", None, [("ship-big", {
        "obligation": "ship", "deadline": {"business_days": 4},
        "condition": "order.total >= 100.0"})], 1)
    plan = orders.plan(event("order.submitted"), {}, [], frozenset(), book, NOW)
    assert plan.starts == () and plan.notes == ["no ship rule matches this order"]


SUBMITTED = run(event("order.submitted", order={"lines": [
    {"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}]})).details
OPEN = [orders.OpenObligation(1, "acknowledge", "order.acknowledged"),
        orders.OpenObligation(2, "ship", "order.shipped")]


@pytest.mark.parametrize(("ev", "status", "met", "cancelled", "started"), [
    (event("order.acknowledged"), "acknowledged", (1,), (), []),
    (event("order.acknowledged", acknowledgement={"status": "rejected"}), "rejected", (1,), (),
     []),
    (event("order.shipped", shipment={"lines": [{"sku": "A", "qty": 2}]}),
     "partially_shipped", (), (), []),
    (event("order.shipped", shipment={"lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}]}),
     "shipped", (2,), (), ["invoice"]),
    (event("order.shipped", shipment={"lines": [{"sku": "A", "qty": 1}], "complete": True}),
     "shipped", (2,), (), ["invoice"]),
    (event("order.cancel_requested"), "cancel_requested", (), (), ["answer_cancel"]),
    (event("order.cancel_answered", answer="accepted"), "cancelled", (), (1, 2), []),
    (event("order.cancel_answered", answer="rejected"), "submitted", (), (), []),
])
def test_what_an_event_does(ev: orders.OrderEvent, status: str, met: tuple[int, ...],
                            cancelled: tuple[int, ...], started: list[str]) -> None:
    plan = run(ev, SUBMITTED, OPEN, frozenset({"acknowledge", "ship"}))
    assert (plan.status, plan.met, plan.cancelled) == (status, met, cancelled)
    assert [s.obligation.value for s in plan.starts] == started


def test_shipped_quantities_add_up_across_events() -> None:
    first = run(event("order.shipped", shipment={"tracking_numbers": ["T1"], "lines": [
        {"sku": "A", "qty": 2}]}), SUBMITTED, OPEN)
    assert first.met == () and first.details["tracking_numbers"] == ["T1"]
    second = run(event("order.shipped", shipment={"tracking_numbers": ["T1", "T2"], "lines": [
        {"sku": "B", "qty": 1}]}), first.details, OPEN)
    assert second.met == (2,) and second.details["tracking_numbers"] == ["T1", "T2"]
    assert second.details["shipped"] == {"A": 2.0, "B": 1.0}


def test_once_per_order_and_not_while_open() -> None:
    plan = run(event("order.submitted"), {}, [], frozenset({"acknowledge"}))
    assert [s.obligation.value for s in plan.starts] == ["ship"]
    open_cancel = [orders.OpenObligation(3, "answer_cancel", "order.cancel_answered")]
    assert run(event("order.cancel_requested"), SUBMITTED, open_cancel).starts == ()
    again = run(event("order.cancel_requested"), SUBMITTED, [], frozenset({"answer_cancel"}))
    assert [s.obligation.value for s in again.starts] == ["answer_cancel"]


def test_a_cancelled_order_starts_nothing() -> None:
    cancelled = run(event("order.cancel_answered", answer="accepted"), SUBMITTED).details
    assert run(event("order.return_requested"), cancelled).starts == ()
    assert orders.status_of(cancelled["facts"]) == "cancelled"


def test_a_later_submitted_event_wins_over_what_others_said() -> None:
    shipped_first = run(event("order.shipped", order={"ship_method": "ground"}))
    plan = run(event("order.submitted", order={"ship_method": "express"}),
               shipped_first.details)
    assert plan.details["order"]["ship_method"] == "express"
    other = run(event("order.acknowledged", order={"ship_method": "slow"}), plan.details)
    assert other.details["order"]["ship_method"] == "express"


@pytest.mark.parametrize(("fixture", "kind", "ref", "retailer", "supplier"), [
    ("850_purchase_order.edi", "order.submitted", "PO-4711", "0042", "SUP-77"),
    ("855_acknowledgement.edi", "order.acknowledged", "PO-4711", None, "SUP-77"),
    ("856_ship_notice.edi", "order.shipped", "PO-4711", "RETAILERID", "SUP-77"),
    ("810_invoice.edi", "order.invoiced", "PO-4711", None, "SUP-77"),
])
def test_x12_events_are_order_events(fixture: str, kind: str, ref: str, retailer: str | None,
                                     supplier: str) -> None:
    [item, *_] = list(x12.decode_x12((X12_FIXTURES / fixture).read_bytes()))
    assert isinstance(item, records.DecodedRecord)
    data = dict(item.data)
    ev = orders.parse(data.pop("type"), data)
    assert (ev.type, ev.order_ref, ev.supplier) == (kind, ref, supplier)
    if retailer is not None:
        assert ev.retailer == retailer
    plan = orders.plan(ev, {}, [], frozenset(), BOOK, NOW)
    assert isinstance(plan.details["order"].get("lines", []), list)


def test_x12_ship_notice_tracking_numbers() -> None:
    [item, *_] = list(x12.decode_x12((X12_FIXTURES / "856_ship_notice.edi").read_bytes()))
    assert isinstance(item, records.DecodedRecord)
    data = dict(item.data)
    ev = orders.parse(data.pop("type"), data)
    assert "1Z999AA10123456784" in ev.summary["tracking_numbers"]


def test_iso_week_is_the_retailers() -> None:
    sunday_night_utc = datetime(2026, 7, 13, 1, 0, tzinfo=UTC)  # Sun 12 Jul 21:00 in New York
    ny = calendar.BusinessCalendar("America/New_York").zone
    assert orders.iso_week(sunday_night_utc, ny) == "2026-W28"
    assert orders.iso_week(sunday_night_utc, calendar.BusinessCalendar("UTC").zone) == "2026-W29"
