"""Who sees what: another role's page is a 404, another party's object is a 404 (also when its
id is typed into the address), and every list shows only the viewer's own rows."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.integration.portal.conftest import SignIn

OPS, RET, SUP, BU = "operator", "retailer", "supplier", "business_unit"
PAGES = {
    "/portal/ops/messages": {OPS}, "/portal/ops/templates": {OPS},
    "/portal/ops/templates/order_confirmed": {OPS}, "/portal/ops/rules": {OPS},
    "/portal/ops/keys": {OPS}, "/portal/ops/sources": {OPS},
    "/portal/ops/dead-letters": {OPS}, "/portal/ops/suppressions": {OPS},
    "/portal/exceptions": {OPS, RET, SUP}, "/portal/exceptions.csv": {OPS, RET, SUP},
    "/portal/performance": {OPS, RET, SUP}, "/portal/notifications": {SUP},
    "/portal/reports": {OPS, BU},
}


def test_each_role_opens_its_pages_and_gets_404_for_the_others(signed_in: SignIn) -> None:
    for who in (OPS, RET, SUP, BU):
        client = signed_in(who)
        for path, admitted in PAGES.items():
            answer = client.get(path, follow_redirects=False)
            expected = 200 if who in admitted else 404
            assert answer.status_code == expected, (who, path, answer.status_code)
            if expected == 404:
                assert "Page not found" in answer.text
        assert client.get("/portal/no-such-page").status_code == 404


def test_signed_out_every_page_redirects_to_sign_in(app: FastAPI) -> None:
    with TestClient(app) as client:
        for path in [*PAGES, "/portal/orders/1", "/portal/ops/messages/1", "/portal/x"]:
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/portal/sign-in?next=")


VISIBLE = {"supplier": {"r1-s1", "r2-s1"}, "supplier2": {"r1-s2", "r2-s2"},
           "retailer": {"r1-s1", "r1-s2"}, "retailer2": {"r2-s1", "r2-s2"},
           "operator": {"r1-s1", "r1-s2", "r2-s1", "r2-s2"}}


def test_orders_of_other_parties_do_not_exist(signed_in: SignIn,
                                              orders: dict[str, int]) -> None:
    for who, visible in VISIBLE.items():
        client = signed_in(who)
        listed = client.get("/portal/exceptions").text
        exported = client.get("/portal/exceptions.csv").text
        for key, order_id in orders.items():
            answer = client.get(f"/portal/orders/{order_id}")
            ref = f"PO-{key}"
            if key in visible:
                assert answer.status_code == 200 and ref in answer.text
                assert ref in listed and ref in exported
            else:
                assert answer.status_code == 404, (who, key)
                assert ref not in answer.text and ref not in listed and ref not in exported


def test_a_supplier_cannot_widen_its_scope_with_filters(signed_in: SignIn,
                                                        orders: dict[str, int]) -> None:
    client = signed_in("supplier")
    for query in ("?supplier=s2", "?supplier=s2&status=all&kind=all"):
        page = client.get("/portal/exceptions" + query).text
        assert "PO-r1-s2" not in page and "PO-r1-s1" in page
        assert "PO-r1-s2" not in client.get("/portal/exceptions.csv" + query).text


def test_messages_of_the_tenant_are_operators_only(signed_in: SignIn) -> None:
    for who in (RET, SUP, BU):
        client = signed_in(who)
        for path in ("/portal/ops/messages/1", "/portal/ops/messages/1/raw"):
            assert client.get(path).status_code == 404, (who, path)

