"""What people do in the portal, in real Chromium against the served portal.

A supplier sets its digest and sees when it arrives; sees its own exceptions and not another
supplier's, also when it types the other's order into the address bar; an operator adds a
message by hand and watches it reach ``sent``; an operator opens a bounced message and reads
why it bounced.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Shots, sign_in
from tests.e2e.world import BOUNCE_REPLY, BOUNCING, World

HOMES = {"operator": ("/portal/ops/messages", {"Messages", "Templates", "Channels", "API keys"}),
         "retailer": ("/portal/exceptions", {"Exceptions", "Performance"}),
         "supplier": ("/portal/exceptions", {"Exceptions", "Notifications", "Performance"}),
         "business_unit": ("/portal/reports", {"Reports"})}


@pytest.mark.parametrize("who", sorted(HOMES))
def test_each_role_signs_in_to_its_own_start_page(page: Any, world: World, who: str) -> None:
    sign_in(page, world, who)
    home, links = HOMES[who]
    assert page.url == world.base + home
    shown = set(page.locator("nav.side a").all_inner_texts())
    assert shown == links if who != "operator" else links <= shown
    assert page.get_by_role("link", name=re.compile("^Messages$")).count() == \
        (1 if who == "operator" else 0)
    page.get_by_role("button", name="Sign out").click()
    assert "You are signed out" in page.inner_text("[role=status]")


def test_a_supplier_sets_digest_days_and_time_and_sees_the_next_deliveries(
        page: Any, world: World, shots: Shots) -> None:
    sign_in(page, world, "supplier")
    page.get_by_role("link", name="Notifications").click()
    assert "No digest is set up for you yet" in page.inner_text("#next-deliveries")
    for day in ("Monday", "Wednesday", "Thursday", "Friday"):
        page.get_by_label(day).uncheck()
    page.get_by_label("Tuesday").check()
    page.get_by_label("Saturday").check()
    page.get_by_label("Time of day").fill("06:45")
    page.get_by_label("Time zone").select_option("America/New_York")
    page.get_by_label("Only these:").check()
    page.get_by_label("acme-stores").check()
    page.get_by_label("ship").check()
    page.get_by_role("button", name="Save").click()
    assert "Saved. Your next digest arrives" in page.inner_text("[role=status]")
    deliveries = page.locator("#next-deliveries li").all_inner_texts()
    assert len(deliveries) == 5
    assert all(re.search(r"^(Tuesday|Saturday) .* 06:45 E[SD]T$", d) for d in deliveries), \
        deliveries
    assert "45 6 * * 2,6" in page.inner_text("main")
    shots(page, "journey-supplier-digest-saved")
    page.get_by_label("Opt out").check()
    page.get_by_role("button", name="Save").click()
    assert "you opted out" in page.inner_text("[role=status]")
    assert "You opted out" in page.inner_text("#next-deliveries")


def test_a_supplier_sees_its_own_exceptions_and_not_another_suppliers(
        page: Any, world: World, shots: Shots) -> None:
    sign_in(page, world, "supplier")
    page.goto(world.base + "/portal/exceptions?status=all&kind=all")
    refs = page.locator("td[data-label=Order]").all_inner_texts()
    assert refs and all(r.startswith("PO-BR-") for r in refs), refs
    page.get_by_label("Order").fill("PO-CO-AC-1002")  # cosy-feet's order: not there
    page.get_by_role("button", name="Filter").click()
    assert "No exceptions match these filters" in page.inner_text("main")
    page.get_by_role("link", name="Clear the filters").click()
    page.locator("td[data-label=Order] a").first.click()
    assert page.locator("h1").inner_text().startswith("Order PO-BR-")
    assert "Timeline" in page.inner_text("main")
    shots(page, "journey-supplier-order-timeline")
    theirs = world.orders["cosy-feet"][0]
    answer = page.goto(f"{world.base}/portal/orders/{theirs}")
    assert answer.status == 404 and "Page not found" in page.inner_text("h1")
    assert "PO-CO-" not in page.content()
    shots(page, "journey-supplier-other-suppliers-order-404")
    with page.expect_download() as download:
        page.goto(world.base + "/portal/exceptions")
        page.get_by_role("link", name="Export CSV").click()
    csv = Path(download.value.path()).read_text(encoding="utf-8")
    assert "PO-BR-" in csv and "PO-CO-" not in csv and csv.startswith("id,retailer,supplier")


def test_an_operator_adds_a_message_by_hand_and_watches_it_reach_sent(
        page: Any, world: World, shots: Shots) -> None:
    sign_in(page, world, "operator")
    page.get_by_role("link", name="Add a message").click()
    page.get_by_label("To", exact=True).fill("walk-in@example.com")
    page.get_by_label("Subject").fill("Your repair is ready")
    page.get_by_label("Text").fill("Hello! Your tent is repaired and ready for pick-up.")
    page.get_by_label("HTML").fill("<p>Hello! Your <b>tent</b> is repaired.</p>")
    page.get_by_label("Provider").select_option("capture")
    shots(page, "journey-operator-add-message-form")
    page.get_by_role("button", name="Queue the message").click()
    assert re.search(r"/portal/ops/messages/\d+$", page.url)
    assert "is queued" in page.inner_text("main") or "sent" in page.inner_text("#message-state")
    page.locator("#message-state .badge-sent").wait_for(timeout=15_000)  # the page looks again
    assert "queued → active" in page.inner_text(".timeline").replace("\n", " ") or \
        "active" in page.inner_text(".timeline")
    frame = page.frame_locator("iframe.preview-frame")
    assert "repaired" in frame.locator("body").inner_text()
    shots(page, "journey-operator-message-sent")


def test_an_operator_opens_a_bounced_message_and_sees_why(page: Any, world: World,
                                                          shots: Shots) -> None:
    sign_in(page, world, "operator")
    page.get_by_role("link", name=re.compile("bounced")).first.click()  # the state tile
    row = page.locator("tr", has_text=BOUNCING)
    row.get_by_role("link").first.click()
    why = page.locator(".why-box")
    assert "Why it is bounced" in why.inner_text()
    assert BOUNCE_REPLY in why.inner_text()
    shots(page, "journey-operator-bounced-message")


def test_an_operator_edits_sample_data_and_the_preview_follows(page: Any, world: World,
                                                               shots: Shots) -> None:
    sign_in(page, world, "operator")
    page.goto(world.base + "/portal/ops/templates/order_confirmed")
    sample = page.get_by_label("Sample data (JSON)")
    data = json.loads(sample.input_value())
    data["customer"]["name"] = "Margaret Hamilton"
    sample.fill(json.dumps(data, indent=2))
    frame = page.frame_locator("iframe#preview-frame")
    frame.get_by_text("Thank you, Margaret Hamilton!").wait_for()
    assert "Margaret Hamilton" in page.inner_text("#preview-text")
    sample.fill("{ not json")
    page.get_by_text("The sample data is not valid JSON").wait_for()
    shots(page, "journey-operator-template-preview-error")
