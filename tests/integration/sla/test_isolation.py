"""Tenant and party isolation: a generated matrix of (party, another party's object) answers
404 on every route, lists show only the caller's own rows, and the same routes answer 200 for
the owner (so the matrix can fail)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import TENANT
from tests.integration.sla.factories import order_event
from tidings.clock import FakeClock
from tidings.runtime.core import Runtime

RETAILERS = ("r1", "r2")
SUPPLIERS = ("s1", "s2")
RULE = {"obligation": "acknowledge", "deadline": {"hours": 1}, "is_default": True}


@dataclass(frozen=True)
class Obj:
    kind: str
    key: Any
    retailer: str | None
    supplier: str | None


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    objects: list[Obj]


@pytest.fixture
def world(runtime: Runtime, client: TestClient, clock: FakeClock,
          party_headers: Callable[[str, str], dict[str, str]]) -> World:
    for retailer in RETAILERS:
        assert client.put(f"/v1/sla/retailers/{retailer}/rules/ack", json=RULE).status_code == 200
    objects = [Obj("rule_book", r, r, None) for r in RETAILERS]
    for retailer in RETAILERS:
        for supplier in SUPPLIERS:
            r = client.post("/v1/orders/events", json=order_event(
                "order.submitted", f"PO-{retailer}-{supplier}", retailer, supplier))
            objects.append(Obj("order", (r.json()["events"][0]["order_id"],
                                         f"PO-{retailer}-{supplier}"), retailer, supplier))
    clock.advance(timedelta(hours=2))
    runtime.sla.timers.drain()
    for exc in client.get("/v1/sla/exceptions", params={"kind": "all"}).json()["exceptions"]:
        objects.append(Obj("exception", exc["id"], exc["retailer"], exc["supplier"]))
    for supplier in SUPPLIERS:
        r = client.post("/v1/sla/subscriptions", json={
            "supplier": supplier, "email": f"ops@{supplier}.example", "days": ["mon"],
            "time": "08:00", "timezone": "UTC"})
        assert r.status_code == 201, r.text
        objects.append(Obj("subscription", r.json()["id"], None, supplier))
    headers = {f"retailer:{r}": party_headers("retailer", r) for r in RETAILERS}
    headers |= {f"supplier:{s}": party_headers("supplier", s) for s in SUPPLIERS}
    other = runtime.keys.create("globex", "another tenant", clock.now())
    headers["operator:globex"] = {"Authorization": f"Bearer {other}"}
    return World(headers, objects)


def owns(viewer: str, obj: Obj) -> bool:
    kind, _, party = viewer.partition(":")
    if kind == "retailer":
        return obj.retailer == party and obj.kind != "subscription"
    if kind == "supplier":
        return obj.supplier == party and obj.kind != "rule_book"
    return False  # another tenant's operator owns nothing here


def requests(obj: Obj, same_tenant: bool = True
             ) -> Iterator[tuple[str, str, dict[str, Any] | None]]:
    """Every route that reads or changes ``obj``: (method, path, json body).

    Another tenant's operator may create a retailer or order of the same name in its own
    tenant, so routes that create are checked for parties of this tenant only (and the
    originals are checked unchanged afterwards)."""
    if obj.kind == "order":
        order_id, ref = obj.key
        yield "GET", f"/v1/orders/{order_id}", None
        if same_tenant:
            yield "POST", "/v1/orders/events", order_event("order.acknowledged", ref,
                                                           obj.retailer, obj.supplier)
        yield "POST", "/v1/orders/events", order_event("order.shipped", ref, None, None)
    elif obj.kind == "exception":
        yield "GET", f"/v1/sla/exceptions/{obj.key}", None
    elif obj.kind == "subscription":
        yield "GET", f"/v1/sla/subscriptions/{obj.key}", None
        yield "GET", f"/v1/sla/subscriptions/{obj.key}/runs", None
        yield "PATCH", f"/v1/sla/subscriptions/{obj.key}", {"enabled": False}
        yield "DELETE", f"/v1/sla/subscriptions/{obj.key}", None
    else:
        yield "GET", f"/v1/sla/retailers/{obj.key}", None
        if same_tenant:
            yield "PUT", f"/v1/sla/retailers/{obj.key}/calendar", {"timezone": "Asia/Tokyo"}
            yield "PUT", f"/v1/sla/retailers/{obj.key}/rules/ack", RULE
        yield "DELETE", f"/v1/sla/retailers/{obj.key}/rules/ack", None


def test_every_route_answers_404_for_another_partys_object(
        app_client: TestClient, client: TestClient, world: World) -> None:
    before = [client.get(f"/v1/sla/retailers/{r}").json() for r in RETAILERS]
    checked = 0
    for viewer, headers in world.headers.items():
        for obj in world.objects:
            if owns(viewer, obj):
                continue
            for method, path, body in requests(obj, not viewer.endswith("globex")):
                r = app_client.request(method, path, json=body, headers=headers)
                assert r.status_code == 404, (viewer, obj, method, path, r.text)
                assert r.json()["type"].endswith("/not-found")
                checked += 1
    assert checked >= 100  # 5 viewers x 14 objects, minus owners, x 1-4 routes
    assert [client.get(f"/v1/sla/retailers/{r}").json() for r in RETAILERS] == before
    assert len(client.get("/v1/sla/subscriptions").json()["subscriptions"]) == 2


def test_the_owner_gets_through_on_the_same_routes(app_client: TestClient,
                                                   world: World) -> None:
    seen = set()
    for viewer, headers in world.headers.items():
        for obj in world.objects:
            if not owns(viewer, obj):
                continue
            method, path, body = next(requests(obj))
            r = app_client.request(method, path, json=body, headers=headers)
            assert r.status_code == 200, (viewer, obj, path, r.text)
            seen.add(obj.kind)
    assert seen == {"order", "exception", "subscription", "rule_book"}


LISTS = ["/v1/orders", "/v1/sla/exceptions?kind=all&status=all", "/v1/sla/subscriptions",
         "/v1/sla/performance"]


def test_lists_show_only_the_callers_rows(app_client: TestClient, world: World) -> None:
    for path in LISTS:
        check_list(app_client, world, path)


def check_list(app_client: TestClient, world: World, path: str) -> None:
    for viewer, headers in world.headers.items():
        kind, _, party = viewer.partition(":")
        r = app_client.get(path, headers=headers)
        assert r.status_code == 200, r.text
        rows = next(v for v in r.json().values() if isinstance(v, list))
        if kind == "operator":
            assert rows == []
            continue
        if kind == "retailer" and "subscriptions" in path:
            assert rows == []
            continue
        assert rows, (viewer, path)
        assert all(row[kind] == party for row in rows), (viewer, path, rows)
        for other in (RETAILERS if kind == "retailer" else SUPPLIERS):
            if other != party:
                sep = "&" if "?" in path else "?"
                filtered = app_client.get(f"{path}{sep}{kind}={other}", headers=headers)
                assert next(v for v in filtered.json().values()
                            if isinstance(v, list)) == [], (viewer, path, other)


def test_csv_export_is_scoped(app_client: TestClient, world: World) -> None:
    r = app_client.get("/v1/sla/exceptions.csv", params={"kind": "all"},
                       headers=world.headers["supplier:s1"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0].startswith("id,retailer,supplier,")
    assert len(lines) == 3 and all(",s1," in line for line in lines[1:])


def test_party_keys_are_not_operator_keys(app_client: TestClient, client: TestClient,
                                          world: World) -> None:
    supplier = world.headers["supplier:s1"]
    r = app_client.post("/v1/sla/party-keys", json={"kind": "supplier", "party": "s2"},
                        headers=supplier)
    assert r.status_code == 404
    assert app_client.get("/v1/messages", headers=supplier).status_code == 401
    assert app_client.get("/v1/orders", headers={"Authorization": "Bearer tdp_x_y"}
                          ).status_code == 401
    r = client.post("/v1/sla/party-keys", json={"kind": "supplier", "party": "s3"})
    assert r.status_code == 201 and r.json()["key"].startswith("tdp_")
    assert r.json()["tenant"] == TENANT


def test_a_party_cannot_create_another_partys_order(app_client: TestClient,
                                                    world: World) -> None:
    event = order_event("order.submitted", "PO-NEW", "r1", "s2")
    assert app_client.post("/v1/orders/events", json=event,
                           headers=world.headers["supplier:s1"]).status_code == 404
    assert app_client.post("/v1/orders/events", json=event,
                           headers=world.headers["retailer:r2"]).status_code == 404
    assert app_client.post("/v1/orders/events", json=event,
                           headers=world.headers["retailer:r1"]).status_code == 200


def test_another_partys_order_number_is_not_revealed(app_client: TestClient,
                                                     world: World) -> None:
    """r2 naming supplier s1 and r1's order number gets its own new order, exactly as for an
    unused number: a 404 here would tell r2 that s1 has such an order with someone else."""
    probe = order_event("order.acknowledged", "PO-r1-s1", "r2", "s1")
    r = app_client.post("/v1/orders/events", json=probe, headers=world.headers["retailer:r2"])
    assert r.status_code == 200, r.text
    mine = app_client.get("/v1/orders", params={"order_ref": "PO-r1-s1"},
                          headers=world.headers["retailer:r2"]).json()["orders"]
    assert [(o["retailer"], o["supplier"]) for o in mine] == [("r2", "s1")]
