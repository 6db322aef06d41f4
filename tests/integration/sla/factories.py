"""Factories for sla tests: order events with overrides, rule books."""

from __future__ import annotations

from typing import Any

RETAILER = "acme-stores"
SUPPLIER = "bright-socks"


def order_event(kind: str, order_id: str, retailer: str | None = RETAILER,
                supplier: str | None = SUPPLIER, at: str | None = None,
                event_id: str | None = None, **data: Any) -> dict[str, Any]:
    """An order event for ``POST /v1/orders/events``; ``data`` adds payload keys."""
    order: dict[str, Any] = {"id": order_id}
    if retailer is not None:
        order["retailer"] = {"id": retailer, "name": retailer.title()}
    if supplier is not None:
        order["supplier"] = {"id": supplier, "name": supplier.title()}
    order.update(data.pop("order", {}))
    event: dict[str, Any] = {"type": kind, "data": {"order": order, **data}}
    if at is not None:
        event["occurred_at"] = at
    if event_id is not None:
        event["id"] = event_id
    return event
