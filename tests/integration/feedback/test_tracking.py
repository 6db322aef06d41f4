"""Open pixel and click redirect over HTTP: events on the timeline, forgeries record nothing."""

from __future__ import annotations

import asyncio
import concurrent.futures
import random
import re
import string
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.integration.feedback.conftest import welcome
from tidings.api.app import create_app
from tidings.api.tracking import PIXEL_GIF
from tidings.feedback.tokens import Purpose
from tidings.runtime.core import Runtime
from tidings.storage import tables
from tidings.storage.tables_feedback import message_feedback

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
TARGET = "https://shop.example/account?a=1&b=2"


def sent_welcome(client: TestClient, runtime: Runtime, n: int = 1) -> tuple[int, str, str]:
    answer = client.post("/v1/events", json=welcome(n, link=TARGET))
    assert answer.status_code == 202, answer.text
    message_id = answer.json()["events"][0]["messages"][0]
    assert runtime.dispatcher().step() >= 1
    body = runtime.outbox.get("acme", message_id)["body_html"]
    click = re.search(r'href="http://127\.0\.0\.1:8025(/t/c/[^"]+)"', body)
    pixel = re.search(r'<img src="http://127\.0\.0\.1:8025(/t/o/[^"]+)"', body)
    assert click and pixel, body
    return message_id, pixel.group(1), click.group(1)


def events(runtime: Runtime, kinds: tuple[str, ...] = ("open", "click")) -> list[Any]:
    e = tables.message_events
    with runtime.engine.connect() as conn:
        return list(conn.execute(select(e).where(e.c.kind.in_(kinds)).order_by(e.c.id)).all())


def test_open_and_click_are_timeline_events(client: TestClient, runtime: Runtime) -> None:
    message_id, pixel, click = sent_welcome(client, runtime)
    runtime.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    seen = client.get(pixel, headers={"user-agent": FIREFOX})
    assert (seen.status_code, seen.content) == (200, PIXEL_GIF)
    assert seen.headers["content-type"] == "image/gif" and "no-store" in \
        seen.headers["cache-control"]
    went = client.get(click, headers={"user-agent": FIREFOX}, follow_redirects=False)
    assert (went.status_code, went.headers["location"]) == (302, TARGET)
    timeline = runtime.outbox.get("acme", message_id)["timeline"]
    opens = [t for t in timeline if t["kind"] == "open"]
    clicks = [t for t in timeline if t["kind"] == "click"]
    assert [(t["reason"], t["actor"]) for t in opens] == [("human", "tracking")]
    assert [(t["reason"], t["response"]) for t in clicks] == [("human", TARGET)]
    with runtime.engine.connect() as conn:
        row = conn.execute(select(message_feedback)).one()
    assert (row.human_opens, row.human_clicks, row.machine_opens) == (1, 1, 0)


async def _hit_all(runtime: Runtime, paths: list[str]) -> set[tuple[int, bytes, str]]:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        answers = []
        for start in range(0, len(paths), 500):
            answers += await asyncio.gather(*(http.get(p) for p in paths[start:start + 500]))
    return {(a.status_code, a.content if a.status_code == 200 else b"",
             a.headers.get("cache-control", "")) for a in answers}


def _hit_all_in_a_thread(runtime: Runtime, paths: list[str]) -> set[tuple[int, bytes, str]]:
    """``_hit_all`` on its own event loop, whatever loop the calling thread may have."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _hit_all(runtime, paths)).result()


def _random_tokens(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + "-_"
    return ["".join(rng.choices(alphabet, k=rng.randint(20, 160))) for _ in range(n)]


def _nothing_recorded(runtime: Runtime) -> None:
    assert events(runtime) == []
    with runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(message_feedback)).scalar() == 0


def test_ten_thousand_random_tokens_record_nothing(client: TestClient, runtime: Runtime) -> None:
    """Through the service the routes call; 200 more through HTTP (all 10,000: --runslow)."""
    sent_welcome(client, runtime)
    for i, token in enumerate(_random_tokens(10_000, 5)):
        purpose = Purpose.OPEN if i % 2 else Purpose.CLICK
        sealed = runtime.feedback.read_token(purpose, token)
        assert sealed is None
    paths = [f"/t/{'o' if i % 2 else 'c'}/{t}" for i, t in enumerate(_random_tokens(200, 6))]
    seen = _hit_all_in_a_thread(runtime, paths)
    no_store = "no-store, no-cache, must-revalidate, private"
    assert seen == {(200, PIXEL_GIF, no_store), (404, b"", no_store)}
    _nothing_recorded(runtime)


@pytest.mark.slow
def test_ten_thousand_random_tokens_over_http(client: TestClient, runtime: Runtime) -> None:
    sent_welcome(client, runtime)
    paths = [f"/t/{'o' if i % 2 else 'c'}/{t}" for i, t in enumerate(_random_tokens(10_000, 7))]
    seen = _hit_all_in_a_thread(runtime, paths)
    no_store = "no-store, no-cache, must-revalidate, private"
    assert seen == {(200, PIXEL_GIF, no_store), (404, b"", no_store)}
    _nothing_recorded(runtime)


def test_a_tampered_redirect_target_is_refused(client: TestClient, runtime: Runtime) -> None:
    _, pixel, click = sent_welcome(client, runtime)
    token = click.rsplit("/", 1)[1]
    for i in range(0, len(token), 7):
        changed = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]
        answer = client.get(f"/t/c/{changed}", follow_redirects=False)
        assert answer.status_code == 404 and "location" not in answer.headers
    swapped = client.get(f"/t/c/{pixel.rsplit('/', 1)[1]}", follow_redirects=False)
    assert swapped.status_code == 404  # a pixel token is not a link
    assert events(runtime) == []


def test_forged_pixel_answers_like_a_real_one(client: TestClient, runtime: Runtime) -> None:
    _, pixel, _ = sent_welcome(client, runtime)
    real = client.get(pixel)
    forged = client.get(pixel[:-4] + "AAAA")
    assert (real.status_code, real.content, dict(real.headers)) == \
        (forged.status_code, forged.content, dict(forged.headers))
    assert len(events(runtime)) == 1


def test_machines_are_counted_apart(client: TestClient, runtime: Runtime) -> None:
    message_id, pixel, click = sent_welcome(client, runtime)
    client.get(click, headers={"user-agent": FIREFOX}, follow_redirects=False)  # at once
    client.get(pixel, headers={"user-agent": "Mozilla/5.0 (via ggpht.com GoogleImageProxy)"})
    runtime.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
    client.get(pixel, headers={"user-agent": FIREFOX})
    client.head(click, headers={"user-agent": FIREFOX})
    reasons = [(t["kind"], t["reason"]) for t in runtime.outbox.get("acme", message_id)["timeline"]
               if t["kind"] in ("open", "click")]
    assert reasons == [("click", "machine: too-soon-after-sending"),
                       ("open", "machine: gmail-image-proxy"), ("open", "human"),
                       ("click", "machine: head-request")]
    with runtime.engine.connect() as conn:
        row = conn.execute(select(message_feedback)).one()
    assert (row.human_opens, row.machine_opens, row.human_clicks, row.machine_clicks) == \
        (1, 1, 0, 2)
    figures = client.get("/v1/metrics", params={"group_by": "message_type"}).json()["rows"]
    welcome_row = next(r for r in figures if r["message_type"] == "account.welcome")
    assert (welcome_row["opened"], welcome_row["opened_human"], welcome_row["clicked"],
            welcome_row["clicked_human"]) == (1, 1, 1, 0)


def test_a_valid_token_of_a_deleted_message_still_redirects(client: TestClient,
                                                           runtime: Runtime) -> None:
    message_id, _, click = sent_welcome(client, runtime)
    with runtime.engine.begin() as conn:
        conn.execute(tables.messages.delete().where(tables.messages.c.id == message_id))
    answer = client.get(click, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (302, TARGET)
    assert events(runtime) == []
