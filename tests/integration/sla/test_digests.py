"""Digests over simulated time: a supplier of two retailers with three users in three zones
gets exactly the digests each chose, one email per slot, a section per retailer; a DST fold
fires once; downtime gives one catch-up digest.

Expected fire times were written from a calendar: Berlin leaves summer time on Sun 25 Oct
2026 (CEST UTC+2 -> CET UTC+1), New York on Sun 1 Nov 2026 (EDT UTC-4 -> EST UTC-5), Tokyo
keeps UTC+9.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.integration.sla.factories import RETAILER, SUPPLIER, order_event
from tidings.clock import FakeClock
from tidings.runtime.core import Runtime
from tidings.storage import tables, tables_sla

OTHER = "other-shop"
STEP = timedelta(minutes=30)  # every slot of these tests is on the hour or half hour
RULES = {"ack": {"obligation": "acknowledge", "deadline": {"hours": 24}, "is_default": True},
         "ship": {"obligation": "ship", "deadline": {"hours": 48}, "is_default": True}}


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def simulate(runtime: Runtime, clock: FakeClock, until: datetime,
             events: dict[datetime, Callable[[], Any]] | None = None) -> None:
    """Move the clock in steps; at each step apply due events, fire timers and slots."""
    events = dict(events or {})
    while clock.now() < until:
        clock.advance(STEP)
        for at in sorted(a for a in events if a <= clock.now()):
            events.pop(at)()
        runtime.sla.timers.drain()
        runtime.sla.scheduler.tick()


def digests(runtime: Runtime, email: str) -> list[dict[str, Any]]:
    m = tables.messages
    with runtime.engine.connect() as conn:
        rows = conn.execute(select(m.c.created_at, m.c.subject, m.c.body_text, m.c.message_type,
                                   m.c.template).where(m.c.recipient == email)
                            .order_by(m.c.created_at)).all()
    return [dict(r._mapping) for r in rows]


def sections(body: str) -> list[str]:
    return re.findall(r"^== (.+) ==$", body, flags=re.MULTILINE)


def test_a_fortnight_of_digests_for_three_users(
        client: TestClient, runtime: Runtime, clock: FakeClock,
        party_headers: Callable[[str, str], dict[str, str]]) -> None:
    for retailer, name in ((RETAILER, "Acme Stores"), (OTHER, "Other Shop")):
        client.put(f"/v1/sla/retailers/{retailer}/calendar",
                   json={"timezone": "UTC", "working_days": list(range(7)), "name": name})
        for rule_id, rule in RULES.items():
            client.put(f"/v1/sla/retailers/{retailer}/rules/{rule_id}", json=rule)
    supplier = party_headers("supplier", SUPPLIER)
    clock.set(z("2026-10-18T23:00:00"))
    users: dict[str, dict[str, Any]] = {
        "alice@socks.example": {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                "time": "08:00", "timezone": "America/New_York",
                                "send_empty": True},
        "bob@socks.example": {"days": ["mon", "wed", "fri"], "time": "07:30",
                              "timezone": "Europe/Berlin", "retailers": [RETAILER],
                              "obligations": ["ship"], "send_empty": True},
        "chika@socks.example": {"days": ["tue", "thu"], "time": "18:00",
                                "timezone": "Asia/Tokyo", "retailers": [OTHER]},
    }
    for email, prefs in users.items():
        r = client.post("/v1/sla/subscriptions", json={"email": email, **prefs},
                        headers=supplier)
        assert r.status_code == 201, r.text
        assert r.json()["supplier"] == SUPPLIER
    assert client.get("/v1/sla/subscriptions", headers=supplier).json()[
        "subscriptions"][1]["cron"] == "30 7 * * 1,3,5"

    def post(*events: dict[str, Any]) -> Callable[[], None]:
        def send() -> None:
            for event in events:
                assert client.post("/v1/orders/events", json=event).status_code == 200
        return send

    simulate(runtime, clock, z("2026-11-02T00:00:00"), {
        z("2026-10-19T00:00:00"): post(order_event("order.submitted", "A1"),
                                       order_event("order.submitted", "A2")),
        z("2026-10-23T00:00:00"): post(order_event("order.shipped", "A1")),
        z("2026-10-27T00:00:00"): post(order_event("order.submitted", "O1", OTHER)),
    })

    alice = digests(runtime, "alice@socks.example")
    assert [d["created_at"] for d in alice] == \
        [z(f"2026-10-{day}T12:00:00") for day in range(19, 32)] + [z("2026-11-01T13:00:00")]
    assert all(d["message_type"] == "sla.digest" and d["template"] == "sla_digest"
               for d in alice)
    assert sections(alice[0]["body_text"]) == [] and "Nothing is overdue" in alice[0]["body_text"]
    assert sections(alice[1]["body_text"]) == ["Acme Stores"]  # both acks late since 20 Oct
    assert sections(alice[-1]["body_text"]) == ["Acme Stores", "Other Shop"]
    assert "A2 (Ship)" in alice[-1]["body_text"] and "A1 (Ship)" not in alice[-1]["body_text"]
    assert "retailer=other-shop" in alice[-1]["body_text"]

    bob = digests(runtime, "bob@socks.example")
    assert [d["created_at"] for d in bob] == [
        z("2026-10-19T05:30:00"), z("2026-10-21T05:30:00"), z("2026-10-23T05:30:00"),
        z("2026-10-26T06:30:00"), z("2026-10-28T06:30:00"), z("2026-10-30T06:30:00")]
    assert [sections(d["body_text"]) for d in bob] == [[]] + [["Acme Stores"]] * 5
    assert "Acknowledge" not in "".join(d["body_text"] for d in bob)
    assert "A1 (Ship)" in bob[1]["body_text"] and "A1 (Ship)" not in bob[2]["body_text"]

    chika = digests(runtime, "chika@socks.example")
    assert [d["created_at"] for d in chika] == [z("2026-10-29T09:00:00")]
    assert sections(chika[0]["body_text"]) == ["Other Shop"]
    assert chika[0]["subject"] == f"Order digest for {SUPPLIER}: 2 overdue"  # O1 ack, ship

    r = client.get("/v1/sla/subscriptions", headers=supplier).json()["subscriptions"]
    runs = client.get(f"/v1/sla/subscriptions/{r[2]['id']}/runs", headers=supplier).json()
    assert sorted((x["slot"], x["state"]) for x in runs["runs"]) == [
        ("2026-10-20T18:00", "empty"), ("2026-10-22T18:00", "empty"),
        ("2026-10-27T18:00", "empty"), ("2026-10-29T18:00", "sent")]


def subscribe(client: TestClient, **prefs: Any) -> int:
    r = client.post("/v1/sla/subscriptions", json={
        "supplier": SUPPLIER, "email": "night@socks.example", "send_empty": True, **prefs})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def slots(runtime: Runtime, sub_id: int) -> list[tuple[str, datetime]]:
    runs = tables_sla.sla_digest_runs
    with runtime.engine.connect() as conn:
        return [(r.slot, r.slot_at) for r in conn.execute(
            select(runs.c.slot, runs.c.slot_at).where(runs.c.subscription_id == sub_id)
            .order_by(runs.c.slot_at))]


def test_daylight_saving_neither_skips_nor_doubles(client: TestClient, runtime: Runtime,
                                                   clock: FakeClock) -> None:
    clock.set(z("2026-10-23T12:00:00"))
    sub_id = subscribe(client, days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                       time="02:30", timezone="Europe/Berlin")
    simulate(runtime, clock, z("2026-10-27T12:00:00"))
    assert slots(runtime, sub_id) == [
        ("2026-10-24T02:30", z("2026-10-24T00:30:00")),
        ("2026-10-25T02:30", z("2026-10-25T00:30:00")),  # 02:30 happens twice: fired once
        ("2026-10-26T02:30", z("2026-10-26T01:30:00")),
        ("2026-10-27T02:30", z("2026-10-27T01:30:00"))]
    clock.set(z("2026-03-27T12:00:00"))
    spring = subscribe(client, email="spring@socks.example", days=["sat", "sun", "mon"],
                       time="02:30", timezone="Europe/Berlin")
    simulate(runtime, clock, z("2026-03-30T12:00:00"))
    assert slots(runtime, spring) == [
        ("2026-03-28T02:30", z("2026-03-28T01:30:00")),
        ("2026-03-29T02:30", z("2026-03-29T01:00:00")),  # 02:30 does not exist: at 03:00
        ("2026-03-30T02:30", z("2026-03-30T00:30:00"))]


def test_downtime_gives_one_catch_up_digest(client: TestClient, runtime: Runtime,
                                            clock: FakeClock) -> None:
    clock.set(z("2026-10-19T00:00:00"))
    sub_id = subscribe(client, days=["mon", "tue", "wed", "thu", "fri"], time="09:00",
                       timezone="UTC")
    simulate(runtime, clock, z("2026-10-19T10:00:00"))
    clock.set(z("2026-10-22T12:00:00"))  # down from Monday 10:00 to Thursday 12:00
    assert len(runtime.sla.scheduler.tick()) == 1
    assert runtime.sla.scheduler.tick() == []
    assert [s for s, _ in slots(runtime, sub_id)] == ["2026-10-19T09:00", "2026-10-22T09:00"]
    assert len(digests(runtime, "night@socks.example")) == 2


def test_opting_out_and_in_again(client: TestClient, runtime: Runtime, clock: FakeClock) -> None:
    clock.set(z("2026-10-19T00:00:00"))
    sub_id = subscribe(client, days=["mon", "tue", "wed", "thu", "fri"], time="09:00",
                       timezone="UTC")
    r = client.patch(f"/v1/sla/subscriptions/{sub_id}", json={"enabled": False})
    assert r.json()["next_run_at"] is None
    simulate(runtime, clock, z("2026-10-20T12:00:00"))
    assert slots(runtime, sub_id) == []
    r = client.patch(f"/v1/sla/subscriptions/{sub_id}", json={"enabled": True,
                                                               "days": ["wed"]})
    assert r.json()["days"] == ["wed"] and r.json()["cron"] == "0 9 * * 3"
    simulate(runtime, clock, z("2026-10-22T12:00:00"))
    assert [s for s, _ in slots(runtime, sub_id)] == ["2026-10-21T09:00"]
    bad = client.patch(f"/v1/sla/subscriptions/{sub_id}", json={"time": "9 am"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/time"
