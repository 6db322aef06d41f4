"""Portal fixtures: an app on a fake clock (both databases), one user per role, signed-in clients.

Clients sign in through the real form (its CSRF token read from the page), so every test
starts from what a browser does. Argon2 runs with its cheapest parameters to stay fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher, profiles
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers import TENANT, make_runtime
from tidings.api.app import create_app
from tidings.clock import FakeClock
from tidings.portal.accounts import Role
from tidings.runtime.core import Runtime
from tidings.sla.parties import Viewer

PASSWORD = "correct-horse-battery"
USERS = {  # key -> (login, role, party)
    "operator": ("ops@acme.example", Role.OPERATOR, None),
    "retailer": ("buyer@r1.example", Role.RETAILER, "r1"),
    "retailer2": ("buyer@r2.example", Role.RETAILER, "r2"),
    "supplier": ("cs@s1.example", Role.SUPPLIER, "s1"),
    "supplier2": ("cs@s2.example", Role.SUPPLIER, "s2"),
    "business_unit": ("lead@web-shop.example", Role.BUSINESS_UNIT, "web-shop"),
}
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
SignIn = Callable[[str], TestClient]


@pytest.fixture
def runtime(project_dir: Path, db_url: str, clock: FakeClock) -> Iterator[Runtime]:
    built = make_runtime(project_dir, db_url, clock)
    yield built
    built.close()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    built = create_app(runtime)
    built.state.portal.accounts.hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    for login, role, party in USERS.values():
        built.state.portal.accounts.add(login, PASSWORD, role, TENANT, party, runtime.clock.now())
    return built


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in_client(client: TestClient, login: str, password: str = PASSWORD) -> Any:
    token = csrf_of(client.get("/portal/sign-in").text)
    return client.post("/portal/sign-in", data={"login": login, "password": password,
                                                "csrf_token": token}, follow_redirects=False)


@pytest.fixture
def signed_in(app: FastAPI) -> Iterator[SignIn]:
    clients: list[TestClient] = []

    def make(who: str) -> TestClient:
        client = TestClient(app)
        clients.append(client)
        answer = sign_in_client(client, USERS[who][0])
        assert answer.status_code == 303, answer.text
        return client
    yield make
    for client in clients:
        client.close()


def post_form(client: TestClient, page: str, action: str, data: dict[str, Any]) -> Any:
    """Submit a form as the browser would: the CSRF token comes from ``page``."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


@pytest.fixture
def orders(runtime: Runtime, clock: FakeClock) -> dict[str, int]:
    """One order per (retailer, supplier) of r1, r2 x s1, s2, each overdue on acknowledge."""
    service, operator = runtime.sla.service, Viewer.operator(TENANT)
    rule = {"obligation": "acknowledge", "deadline": {"hours": 1}, "is_default": True}
    for retailer in ("r1", "r2"):
        service.put_rule(operator, retailer, "ack", rule)
    ids = {}
    for retailer in ("r1", "r2"):
        for supplier in ("s1", "s2"):
            ref = f"PO-{retailer}-{supplier}"
            recorded = service.record(operator, [("order.submitted", {"order": {
                "id": ref, "retailer": retailer, "supplier": supplier}}, f"{ref}-sub")])
            ids[f"{retailer}-{supplier}"] = recorded[0].order_id
    clock.advance(timedelta(hours=2))
    runtime.sla.timers.drain()
    return ids
