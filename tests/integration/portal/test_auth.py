"""Sign-in, sessions, cookies, lockout and the CSRF guard of every portal form."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.helpers import order_confirmed
from tests.integration.portal.conftest import (
    PASSWORD,
    USERS,
    SignIn,
    csrf_of,
    sign_in_client,
)
from tidings.clock import FakeClock
from tidings.portal import accounts, sessions
from tidings.runtime.core import Runtime
from tidings.storage.tables_portal import portal_sessions, portal_users


def _cookie_header(answer: object, name: str) -> str:
    headers = answer.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    found = [h for h in headers if h.startswith(name + "=")]
    assert found, headers
    return found[0]


def test_sign_in_sets_a_secure_session_cookie_and_goes_to_the_role_home(app: FastAPI) -> None:
    with TestClient(app) as client:
        answer = sign_in_client(client, USERS["supplier"][0])
        assert answer.status_code == 303
        assert answer.headers["location"] == "/portal/exceptions"
        cookie = _cookie_header(answer, "tidings_session").lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/portal" in cookie
        assert "secure" not in cookie  # plain http: a Secure cookie would never come back
        page = client.get("/portal/exceptions")
        assert page.status_code == 200 and "cs@s1.example" in page.text
        assert "Sign out" in page.text


def test_cookies_are_secure_over_https(app: FastAPI) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        answer = sign_in_client(client, USERS["operator"][0])
        assert answer.status_code == 303
        assert "secure" in _cookie_header(answer, "tidings_session").lower()


def test_the_hash_is_argon2id_and_no_clear_token_is_stored(app: FastAPI, runtime: Runtime) -> None:
    with TestClient(app) as client:
        answer = sign_in_client(client, USERS["retailer"][0])
        token = _cookie_header(answer, "tidings_session").split(";")[0].split("=", 1)[1]
    with runtime.engine.connect() as conn:
        hashes = conn.execute(select(portal_users.c.password_hash)).scalars().all()
        stored = conn.execute(select(portal_sessions.c.token_hash)).scalars().all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert PASSWORD not in "".join(hashes)
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_a_wrong_login_or_password_says_the_same(app: FastAPI) -> None:
    for login in (USERS["supplier"][0], "nobody@nowhere.example"):
        with TestClient(app) as client:
            answer = sign_in_client(client, login, "wrong password!")
            assert answer.status_code == 401
            assert "The login or the password is wrong" in answer.text
            assert "tidings_session" not in answer.headers.get("set-cookie", "")
            assert client.get("/portal/exceptions", follow_redirects=False).status_code == 303


def test_too_many_failures_lock_the_login_for_a_while(app: FastAPI, clock: FakeClock) -> None:
    login = USERS["supplier"][0]
    with TestClient(app) as client:
        for _ in range(accounts.MAX_FAILED_LOGINS):
            assert sign_in_client(client, login, "wrong password!").status_code == 401
        locked = sign_in_client(client, login)
        assert locked.status_code == 401 and "Too many failed sign-ins" in locked.text
        clock.advance(timedelta(seconds=accounts.LOCK_SECONDS + 1))
        assert sign_in_client(client, login).status_code == 303


def test_sign_out_ends_the_session(app: FastAPI, signed_in: SignIn) -> None:
    client = signed_in("operator")
    old = client.cookies.get("tidings_session")
    token = csrf_of(client.get("/portal/ops/messages").text)
    answer = client.post("/portal/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/portal/sign-in"
    assert "You are signed out" in client.get("/portal/sign-in").text
    with TestClient(app) as replay:  # the old cookie, kept by an attacker, is worthless
        replay.cookies.set("tidings_session", old or "", path="/portal")
        assert replay.get("/portal/ops/messages", follow_redirects=False).status_code == 303


def test_an_idle_session_ends(signed_in: SignIn, clock: FakeClock) -> None:
    client = signed_in("retailer")
    assert client.get("/portal/exceptions").status_code == 200
    clock.advance(timedelta(seconds=sessions.IDLE_SECONDS + 1))
    answer = client.get("/portal/exceptions", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portal/sign-in?next=/portal/exceptions"


def test_signed_out_requests_go_to_sign_in_and_come_back(app: FastAPI) -> None:
    with TestClient(app) as client:
        answer = client.get("/portal/performance?obligation=ship", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == \
            "/portal/sign-in?next=/portal/performance%3Fobligation%3Dship"
        form = client.get(answer.headers["location"]).text
        back = client.post("/portal/sign-in", follow_redirects=False, data={
            "login": USERS["supplier"][0], "password": PASSWORD,
            "next": "/portal/performance?obligation=ship", "csrf_token": csrf_of(form)})
        assert back.headers["location"] == "/portal/performance?obligation=ship"


def test_next_never_leaves_the_portal(app: FastAPI) -> None:
    for target in ("//evil.example/", "https://evil.example/portal", "/\\evil.example",
                   "/portal/sign-in"):
        with TestClient(app) as client:
            form = client.get("/portal/sign-in").text
            answer = client.post("/portal/sign-in", follow_redirects=False, data={
                "login": USERS["operator"][0], "password": PASSWORD, "next": target,
                "csrf_token": csrf_of(form)})
            assert answer.headers["location"] == "/portal/ops/messages", target


def _routes(routes: list[object]) -> list[object]:
    """Every route, also inside routers included with ``include_router``."""
    out: list[object] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        out += _routes(inner.routes) if inner is not None else [route]
    return out


def _post_routes(app: FastAPI) -> list[str]:
    paths = []
    for route in _routes(app.routes):
        path = getattr(route, "path", "")
        if path.startswith("/portal") and "POST" in getattr(route, "methods", set()):
            paths.append(re.sub(r"\{(\w+)(:\w+)?\}", lambda m: "1" if m.group(2) else "x", path))
    return paths


def test_every_portal_form_refuses_a_missing_or_foreign_csrf_token(
        app: FastAPI, signed_in: SignIn) -> None:
    operator, supplier = signed_in("operator"), signed_in("supplier")
    foreign = csrf_of(supplier.get("/portal/exceptions").text)
    routes = _post_routes(app)
    assert len(routes) >= 10, routes  # the guard is tested on the real forms
    for path in routes:
        for data in ({}, {"csrf_token": foreign}, {"csrf_token": "0" * 64}):
            answer = operator.post(path, data=data, follow_redirects=False)
            assert answer.status_code == 403, (path, data, answer.status_code)
            assert "This form has expired" in answer.text
        header = operator.post(path, headers={"X-CSRF-Token": foreign},
                               follow_redirects=False)
        assert header.status_code == 403, path


def test_a_valid_csrf_token_in_the_header_is_accepted(signed_in: SignIn) -> None:
    client = signed_in("operator")
    token = csrf_of(client.get("/portal/ops/templates/order_confirmed").text)
    sample = json.dumps(order_confirmed()["data"])
    answer = client.post("/portal/ops/templates/order_confirmed",
                         data={"sample": sample, "locale": ""},
                         headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert answer.status_code == 200 and "subject" in answer.json()


def test_pages_carry_security_headers(signed_in: SignIn) -> None:
    answer = signed_in("operator").get("/portal/ops/messages")
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "img-src 'self' data:" in csp
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-frame-options"] == "SAMEORIGIN"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_removing_a_user_ends_its_sessions(app: FastAPI, signed_in: SignIn) -> None:
    client = signed_in("business_unit")
    assert client.get("/portal/reports").status_code == 200
    app.state.portal.accounts.remove(USERS["business_unit"][0])
    assert client.get("/portal/reports", follow_redirects=False).status_code == 303


def test_ended_sessions_are_swept_at_the_next_sign_in(app: FastAPI, runtime: Runtime,
                                                      signed_in: SignIn, clock: FakeClock) -> None:
    signed_in("retailer")
    clock.advance(timedelta(seconds=sessions.IDLE_SECONDS + 1))
    signed_in("supplier")
    with runtime.engine.connect() as conn:
        assert len(conn.execute(select(portal_sessions.c.token_hash)).all()) == 1
