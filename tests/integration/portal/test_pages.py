"""What the pages do: filter the queue, act on a message, preview a template, manage keys,
set a digest, suppress an address, replay a dead letter, report per business unit."""

from __future__ import annotations

import json
from datetime import timedelta

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.helpers import TENANT, order_confirmed
from tests.integration.portal.conftest import SignIn, csrf_of, post_form
from tidings.clock import FakeClock
from tidings.ingest.deadletters import NewDeadLetter, SqlDeadLetters
from tidings.ingest.pipeline import DECODED
from tidings.runtime.core import Runtime
from tidings.sla.parties import Viewer
from tidings.storage import tables


def _messages(runtime: Runtime, *emails: str) -> list[int]:
    from tidings.ingest.service import InboundEvent
    events = [InboundEvent("order.confirmed", order_confirmed(f"SO-{email}", email)["data"],
                           f"SO-{email}") for email in emails]
    accepted = runtime.ingestor.accept(TENANT, events, "test")
    return [m for a in accepted for m in a.message_ids]


def test_the_queue_filters_by_status_recipient_and_date(runtime: Runtime, clock: FakeClock,
                                                        signed_in: SignIn) -> None:
    first = _messages(runtime, "ada@example.com")
    clock.advance(timedelta(days=2))
    _messages(runtime, "grace@example.com")
    runtime.dispatcher().step()
    client = signed_in("operator")
    assert "grace@example.com" in client.get("/portal/ops/messages").text
    by_recipient = client.get("/portal/ops/messages?recipient=ADA@example.com").text
    assert "ada@example.com" in by_recipient and "grace@example.com" not in by_recipient
    day = clock.now().date().isoformat()
    by_date = client.get(f"/portal/ops/messages?from={day}&to={day}").text
    assert "grace@example.com" in by_date and "ada@example.com" not in by_date
    held = client.get("/portal/ops/messages?state=held").text
    assert "No messages match these filters" in held
    assert f'href="/portal/ops/messages/{first[0]}"' in client.get(
        "/portal/ops/messages?state=sent").text
    assert "could not be read" in client.get("/portal/ops/messages?from=yesterday").text
    for edited in ("/portal/ops/messages?before=abc", "/portal/ops/dead-letters?before=-1",
                   "/portal/exceptions?offset=x&age=forever&sort=nonsense"):
        assert client.get(edited).status_code == 200, edited


def test_hold_release_and_an_illegal_action(runtime: Runtime, signed_in: SignIn) -> None:
    (message_id,) = _messages(runtime, "ada@example.com")[:1]
    client = signed_in("operator")
    page = f"/portal/ops/messages/{message_id}"
    held = post_form(client, page, f"{page}/hold", {})
    assert held.status_code == 303
    shown = client.get(page).text
    assert "is held: it will not be sent until you release it" in shown
    assert runtime.outbox.get(TENANT, message_id)["state"] == "held"
    assert "Release" in shown and ">Hold<" not in shown
    post_form(client, page, f"{page}/release", {})
    assert runtime.outbox.get(TENANT, message_id)["state"] == "queued"
    runtime.dispatcher().step()
    refused = post_form(client, page, f"{page}/hold", {})
    assert refused.status_code == 303
    assert "was not changed: it is sent" in client.get(page).text
    timeline = client.get(page).text
    assert "portal:ops@acme.example" in timeline and "queued → <strong>active" in timeline


def test_a_bounced_message_says_why(runtime: Runtime, signed_in: SignIn) -> None:
    (message_id,) = _messages(runtime, "ada@example.com")[:1]
    from tidings.domain.states import State
    from tidings.outbox.messages import Decision
    claimed = runtime.outbox.claim("capture", "w", 10, runtime.clock.now(), 60)
    runtime.outbox.record("w", [(c, Decision(State.BOUNCED, "hard bounce", "550 5.1.1 no such "
                                             "user")) for c in claimed], runtime.clock.now())
    page = signed_in("operator").get(f"/portal/ops/messages/{message_id}").text
    assert "Why it is bounced" in page and "550 5.1.1 no such user" in page


def test_the_preview_is_sandboxed(runtime: Runtime, signed_in: SignIn) -> None:
    (message_id,) = _messages(runtime, "ada@example.com")[:1]
    page = signed_in("operator").get(f"/portal/ops/messages/{message_id}").text
    frame = page.split('<iframe class="preview-frame"', 1)[1].split(">", 1)[0]
    assert ' sandbox=""' in frame and "allow-" not in frame
    assert "srcdoc=\"&lt;" in page  # the HTML travels escaped inside the attribute


def test_template_preview_renders_edits_and_reports_errors(runtime: Runtime,
                                                           signed_in: SignIn) -> None:
    client = signed_in("operator")
    page = client.get("/portal/ops/templates/order_confirmed")
    assert page.status_code == 200  # no event yet: placeholders from the schema
    assert "placeholders from the order.confirmed schema" in page.text
    _messages(runtime, "ada@example.com")
    page = client.get("/portal/ops/templates/order_confirmed")
    assert page.status_code == 200 and "the latest order.confirmed event" in page.text
    sample = order_confirmed("SO-77", "x@example.com")["data"]
    sample["customer"]["name"] = "Zoë Preview"
    token = csrf_of(page.text)
    answer = client.post("/portal/ops/templates/order_confirmed", headers={
        "Accept": "application/json"}, data={"sample": json.dumps(sample), "locale": "de",
                                             "csrf_token": token}).json()
    assert "SO-77" in answer["subject"] and "Zoë Preview" in answer["html"]
    assert answer["locale"] == "de"
    bad = client.post("/portal/ops/templates/order_confirmed",
                      data={"sample": "{not json", "csrf_token": token})
    assert bad.status_code == 422 and "not valid JSON" in bad.text
    assert client.get("/portal/ops/templates/no_such").status_code == 404


def test_keys_are_shown_once_and_revoked_only_in_the_tenant(runtime: Runtime,
                                                            signed_in: SignIn) -> None:
    client = signed_in("operator")
    created = post_form(client, "/portal/ops/keys", "/portal/ops/keys", {"label": "erp"})
    assert created.status_code == 201
    key = created.text.split('<code id="new-key"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    assert runtime.keys.tenant_of(key) == TENANT
    assert key not in client.get("/portal/ops/keys").text
    prefix = key.split("_")[1]
    other = runtime.keys.create("globex", "theirs", runtime.clock.now()).split("_")[1]
    assert post_form(client, "/portal/ops/keys", f"/portal/ops/keys/{other}/revoke",
                     {}).status_code == 404
    assert runtime.keys.list("globex")[0]["revoked_at"] is None
    post_form(client, "/portal/ops/keys", f"/portal/ops/keys/{prefix}/revoke", {})
    assert runtime.keys.tenant_of(key) is None
    assert "requests with it now get 401" in client.get("/portal/ops/keys").text


def _digest(client: TestClient, **changes: object) -> object:
    form: dict[str, object] = {"enabled": "yes", "days": ["mon", "wed"], "time": "07:30",
                               "timezone": "Europe/Berlin", "retailer_scope": "all"}
    form.update(changes)
    return post_form(client, "/portal/notifications", "/portal/notifications", form)


def test_a_supplier_sets_its_digest_and_sees_the_next_deliveries(
        runtime: Runtime, signed_in: SignIn, orders: dict[str, int]) -> None:
    client = signed_in("supplier")
    assert "No digest is set up for you yet" in client.get("/portal/notifications").text
    saved = _digest(client, retailer_scope="some", retailers=["r1"],
                    obligations=["acknowledge"])
    assert saved.status_code == 303  # type: ignore[attr-defined]
    (sub,) = runtime.sla.service.subscriptions(Viewer.supplier(TENANT, "s1"))
    assert (sub["cron"], sub["timezone"], sub["email"]) == \
        ("30 7 * * 1,3", "Europe/Berlin", "cs@s1.example")
    assert (sub["retailers"], sub["obligations"]) == (["r1"], ["acknowledge"])
    page = client.get("/portal/notifications").text
    assert "Saved. Your next digest arrives Wednesday 07 January at 07:30" in page
    assert page.count("07:30</time>") == 5 and "CET" in page
    _digest(client, enabled="no")
    (sub,) = runtime.sla.service.subscriptions(Viewer.supplier(TENANT, "s1"))
    assert sub["enabled"] is False and "you opted out" in client.get("/portal/notifications").text
    other = signed_in("supplier2").get("/portal/notifications").text
    assert "cs@s1.example" not in other


def test_an_invalid_digest_is_refused_and_nothing_is_saved(runtime: Runtime,
                                                           signed_in: SignIn) -> None:
    client = signed_in("supplier")
    answer = _digest(client, timezone="Mars/Olympus")
    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert "unknown IANA time zone" in answer.text  # type: ignore[attr-defined]
    assert _digest(client, days=[]).status_code == 422  # type: ignore[attr-defined]
    assert runtime.sla.service.subscriptions(Viewer.supplier(TENANT, "s1")) == []


def test_suppress_and_remove_an_address(signed_in: SignIn) -> None:
    client = signed_in("operator")
    page = "/portal/ops/suppressions"
    post_form(client, page, page, {"address": "Ada@Example.com", "detail": "asked by phone"})
    listed = client.get(page).text
    assert "ada@example.com is suppressed" in listed and "asked by phone" in listed
    assert "not an address" not in listed
    bad = post_form(client, page, page, {"address": "nobody"})
    assert "Nothing was added" in client.get(bad.headers["location"]).text
    post_form(client, page, page + "/remove", {"address": "ada@example.com"})
    assert "Nobody is suppressed" in client.get(page).text


def test_replay_a_dead_letter_once(runtime: Runtime, signed_in: SignIn) -> None:
    store = SqlDeadLetters(runtime.engine)
    payload = orjson.dumps(order_confirmed("SO-DL", "dl@example.com")["data"])
    with runtime.engine.begin() as conn:
        store.add(conn, [NewDeadLetter("api", "schema_violation", "/order/total", "too small",
                                       payload, TENANT, "order.confirmed", "dl-1",
                                       {DECODED: True})], runtime.clock.now())
    (letter,) = store.list(TENANT)
    client = signed_in("operator")
    assert "too small" in client.get("/portal/ops/dead-letters").text
    page = f"/portal/ops/dead-letters/{letter.id}"
    assert "SO-DL" in client.get(page).text
    replayed = post_form(client, page, page + "/replay", {})
    assert "Replayed: the record was accepted" in client.get(replayed.headers["location"]).text
    assert runtime.outbox.list(TENANT, recipient="dl@example.com")
    again = post_form(client, "/portal/ops/dead-letters", page + "/replay", {})
    assert again.status_code == 404 or "already" in client.get(page).text


def test_reports_show_only_the_business_unit_of_the_user(runtime: Runtime,
                                                         signed_in: SignIn) -> None:
    ids = _messages(runtime, "a@example.com", "b@example.com", "c@example.com")
    with runtime.engine.begin() as conn:
        conn.execute(update(tables.messages).where(tables.messages.c.id == ids[0])
                     .values(business_unit="web-shop"))
        conn.execute(update(tables.messages).where(tables.messages.c.id.in_(ids[1:]))
                     .values(business_unit="stores"))
    runtime.dispatcher().step()
    mine = signed_in("business_unit").get("/portal/reports?business_unit=stores").text
    assert '<span class="n">1</span><span class="l">sent</span>' in mine
    everything = signed_in("operator").get("/portal/reports").text
    assert '<span class="n">3</span><span class="l">sent</span>' in everything
    stores = signed_in("operator").get("/portal/reports?business_unit=stores").text
    assert '<span class="n">2</span><span class="l">sent</span>' in stores


def test_add_a_message_by_hand_once(runtime: Runtime, signed_in: SignIn) -> None:
    client = signed_in("operator")
    form = client.get("/portal/ops/messages/new").text
    key = form.split('name="key" value="', 1)[1].split('"', 1)[0]
    data = {"to": "walk-in@example.com, second@example.com", "subject": "Ready",
            "body_text": "Your tent is ready.", "provider": "capture", "key": key,
            "interval_min": "08:00:00", "interval_max": "18:00:00",
            "csrf_token": csrf_of(form)}
    added = client.post("/portal/ops/messages/new", data=data, follow_redirects=False)
    assert added.status_code == 303
    message_id = int(added.headers["location"].rsplit("/", 1)[1])
    row = runtime.outbox.get(TENANT, message_id)
    assert (row["state"], row["to_addrs"], row["window_start"]) == (
        "queued", ["walk-in@example.com", "second@example.com"], "08:00:00")
    assert "is queued" in client.get(added.headers["location"]).text
    again = client.post("/portal/ops/messages/new", data=data, follow_redirects=False)
    assert again.headers["location"] == added.headers["location"]
    assert "This form was sent before" in client.get(again.headers["location"]).text
    assert len(runtime.outbox.list(TENANT, recipient="walk-in@example.com")) == 1


def test_a_refused_hand_added_message_keeps_what_was_typed(runtime: Runtime,
                                                           signed_in: SignIn) -> None:
    client = signed_in("operator")
    empty = post_form(client, "/portal/ops/messages/new", "/portal/ops/messages/new",
                      {"subject": "kept subject"})
    assert empty.status_code == 422 and "Nothing was saved" in empty.text
    assert 'value="kept subject"' in empty.text
    bad = post_form(client, "/portal/ops/messages/new", "/portal/ops/messages/new",
                    {"to": "not an address", "body_text": "x", "subject": "s"})
    assert bad.status_code == 422 and "<code>/to/0</code>" in bad.text
    assert runtime.outbox.list(TENANT) == []


def test_change_a_provider_and_its_status_table(runtime: Runtime, signed_in: SignIn) -> None:
    client = signed_in("operator")
    page = "/portal/ops/channels/providers/capture"
    shown = client.get(page).text
    saved = post_form(client, page, page, {"bulk_size": "25", "interval_min": "06:00:00",
                                           "interval_max": "20:00:00", "rate_per_second": "",
                                           "click_tracking": "yes"})
    assert saved.status_code == 303 and "Provider capture is saved" in client.get(page).text
    config = runtime.channels.get("provider", "capture")
    assert (config.bulk_size, str(config.interval_min), config.click_tracking) == \
        (25, "06:00:00", True)
    assert runtime.channels.catalog().origin("provider", "capture") == "operator"
    refused = post_form(client, page, page, {"bulk_size": "0"})
    assert refused.status_code == 422 and "/bulk_size" in refused.text
    assert runtime.channels.get("provider", "capture").bulk_size == 25
    post_form(client, page, page + "/statuses", {"code": "599", "action": "fail",
                                                 "description": "vendor says no"})
    assert any(r.code == "599" and r.action == "fail" for r in runtime.channels.statuses(
        "capture"))
    post_form(client, page, page + "/statuses/delete", {"code": "599"})
    assert all(r.code != "599" for r in runtime.channels.statuses("capture"))
    assert "Provider capture" in shown and client.get(
        "/portal/ops/channels/providers/nope").status_code == 404
