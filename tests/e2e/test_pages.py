"""Every page of every role opens in real Chromium, shows its heading, and is shot at desktop
and phone widths; the phone layout never scrolls sideways."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import PHONE, Shots, sign_in
from tests.e2e.world import BOUNCING, World

SIDEWAYS_SLACK_PX = 2


def _pages(world: World, who: str) -> list[tuple[str, str]]:
    order = world.orders["bright-socks"][0]
    if who == "operator":
        return [("Messages", "/portal/ops/messages"),
                ("Add a message", "/portal/ops/messages/new"),
                ("Message", f"/portal/ops/messages/{world.message_id(BOUNCING)}"),
                ("Message", f"/portal/ops/messages/{world.message_id('ada@example.com')}"),
                ("Templates", "/portal/ops/templates"),
                ("Template order_confirmed", "/portal/ops/templates/order_confirmed"),
                ("Rules", "/portal/ops/rules"), ("API keys", "/portal/ops/keys"),
                ("Channels", "/portal/ops/channels"),
                ("Provider smtp", "/portal/ops/channels/providers/smtp"),
                ("Sources", "/portal/ops/sources"), ("Dead letters", "/portal/ops/dead-letters"),
                ("Suppressions", "/portal/ops/suppressions"),
                ("Order exceptions", "/portal/exceptions"), ("Order PO", f"/portal/orders/{order}"),
                ("Performance", "/portal/performance"), ("Reports", "/portal/reports")]
    if who == "retailer":
        return [("Order exceptions", "/portal/exceptions"), ("Order PO", f"/portal/orders/{order}"),
                ("Performance", "/portal/performance")]
    if who == "supplier":
        return [("Order exceptions", "/portal/exceptions"), ("Order PO", f"/portal/orders/{order}"),
                ("Notifications", "/portal/notifications"), ("Performance", "/portal/performance")]
    return [("Reports", "/portal/reports")]


@pytest.mark.parametrize("who", ["operator", "retailer", "supplier", "business_unit"])
def test_every_page_of_each_role(page: Any, world: World, shots: Shots, who: str) -> None:
    sign_in(page, world, who)
    for number, (heading, path) in enumerate(_pages(world, who)):
        answer = page.goto(world.base + path)
        assert answer.status == 200, (path, answer.status)
        assert page.locator("h1").first.inner_text().startswith(heading), path
        shots(page, f"{who}-{number:02d}-{path.strip('/').replace('/', '-')}")
        page.set_viewport_size(PHONE)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        page.set_viewport_size({"width": 1280, "height": 800})
        assert overflow <= SIDEWAYS_SLACK_PX, (path, overflow)


def test_signed_out_pages(page: Any, world: World, shots: Shots) -> None:
    page.goto(world.base + "/portal/exceptions")
    assert "/portal/sign-in?next=" in page.url
    shots(page, "signed-out-sign-in")
    page.get_by_label("Login (email address)").fill(world.logins["supplier"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert "login or the password is wrong" in page.inner_text("[role=alert]")
    shots(page, "signed-out-sign-in-failed")
