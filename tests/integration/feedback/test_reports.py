"""Metrics per group, the CSV export, and the scheduled report email end to end."""

from __future__ import annotations

import csv
import email
import email.policy
import io
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from tests.helpers import make_runtime
from tidings.domain.states import State
from tidings.feedback.notices import Kind, MessageRef, Notice
from tidings.outbox.messages import NewMessage
from tidings.runtime.core import Runtime
from tidings.storage import tables
from tidings.storage.feedback_sql import Tracked

MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # the FakeClock's start: 10:00 in Berlin
REPORT = """
[[feedback.reports]]
name = "web-shop-weekly"
tenant = "acme"
business_unit = "web-shop"
recipients = ["ops@acme.example", "ceo@acme.example"]
cron = "0 10 * * 1"
timezone = "Europe/Berlin"
days = 7
"""


@pytest.fixture
def feedback_toml() -> str:
    return REPORT


def seed(runtime: Runtime, n: int, *, day: int, unit: str = "web-shop",
         kind: str = "order.confirmed", state: State = State.SENT,
         feedback: Kind | None = None, opened: bool = False, clicked: bool = False,
         template: str = "order_confirmed", error: str | None = None) -> int:
    now = runtime.clock.now()
    created = MONDAY - timedelta(days=day)
    header = f"<seed-{n}@acme.example>"
    new = NewMessage(dedupe_key=f"seed-{n}", channel="email", provider="capture",
                     recipient=f"r{n}@example.com", to=[f"r{n}@example.com"],
                     sender="orders@acme.example", subject="s", body_text="t",
                     message_id_header=header, due_at=now, message_type=kind,
                     template=template)
    with runtime.engine.begin() as conn:
        (message_id,) = runtime.outbox.insert(conn, "acme", None, [new], now)
        conn.execute(tables.messages.update().where(tables.messages.c.id == message_id).values(
            state=state.value, created_at=created, business_unit=unit, last_error=error,
            sent_at=created if state is not State.FAILED else None))
    assert message_id is not None
    if feedback is not None:
        runtime.feedback.store.apply(Notice(feedback, now, "ses", MessageRef(message_id),
                                            reason="why " + feedback.value), now)
    tracked = Tracked(message_id, "acme", state.value, created)
    if opened:
        runtime.feedback.store.engage(tracked, "open", True, "human", None, now)
        runtime.feedback.store.engage(tracked, "open", False, "machine: apple-mpp", None, now)
    if clicked:
        runtime.feedback.store.engage(tracked, "click", True, "human", "https://x.example", now)
    return message_id


def seed_week(runtime: Runtime) -> None:
    seed(runtime, 1, day=1, feedback=Kind.DELIVERED, opened=True, clicked=True)
    seed(runtime, 2, day=1, feedback=Kind.DELIVERED, opened=True)
    seed(runtime, 3, day=1, feedback=Kind.HARD_BOUNCE)
    seed(runtime, 4, day=2, feedback=Kind.SOFT_BOUNCE)
    seed(runtime, 5, day=2, feedback=Kind.COMPLAINED)
    seed(runtime, 6, day=2, state=State.FAILED, error="failed: 554 5.7.1 rejected content")
    seed(runtime, 7, day=2, kind="order.shipped", template="order_shipped",
         feedback=Kind.DELIVERED)
    seed(runtime, 8, day=3, unit="stores", feedback=Kind.DELIVERED)
    seed(runtime, 9, day=9, feedback=Kind.DELIVERED)  # before the period
    seed(runtime, 10, day=1, unit="=cmd|' /C calc'!A0", feedback=Kind.DELIVERED)


def test_metrics_by_group(client: TestClient, runtime: Runtime) -> None:
    seed_week(runtime)
    answer = client.get("/v1/metrics", params={"start": "2025-12-29", "end": "2026-01-05",
                                               "group_by": "business_unit,message_type",
                                               "business_unit": "web-shop"})
    assert answer.status_code == 200, answer.text
    rows = {r["message_type"]: r for r in answer.json()["rows"]}
    confirmed = rows["order.confirmed"]
    assert {k: confirmed[k] for k in ("queued", "sent", "delivered", "bounced_hard",
                                      "bounced_soft", "complained", "failed", "reached",
                                      "opened", "opened_human", "clicked", "clicked_human")} == {
        "queued": 6, "sent": 5, "delivered": 3, "bounced_hard": 1, "bounced_soft": 1,
        "complained": 1, "failed": 1, "reached": 4, "opened": 2, "opened_human": 2,
        "clicked": 1, "clicked_human": 1}
    assert confirmed["delivery_rate"] == 0.6 and confirmed["bounce_rate"] == 0.4
    assert confirmed["open_rate"] == 0.5 and confirmed["click_to_open_rate"] == 0.5
    assert rows["order.shipped"]["delivered"] == 1
    by_day = client.get("/v1/metrics", params={"start": "2025-12-29", "end": "2026-01-05"})
    assert [(r["day"], r["queued"]) for r in by_day.json()["rows"]] == [
        ("2026-01-02", 1), ("2026-01-03", 4), ("2026-01-04", 4)]
    failures = client.get("/v1/metrics/failures",
                          params={"start": "2025-12-29", "end": "2026-01-05"}).json()["reasons"]
    assert {"outcome": "failed", "reason": "failed: 554 5.7.1 rejected content",
            "messages": 1} in failures
    assert {"outcome": "hard_bounce", "reason": "why hard_bounce", "messages": 1} in failures
    bad = client.get("/v1/metrics", params={"group_by": "colour"})
    assert bad.status_code == 422


def test_csv_export_neutralises_formulas_and_parses(client: TestClient,
                                                    runtime: Runtime) -> None:
    seed_week(runtime)
    answer = client.get("/v1/metrics.csv", params={"start": "2025-12-29", "end": "2026-01-05",
                                                   "group_by": "business_unit"})
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    units = {r["business_unit"]: r for r in rows}
    assert set(units) == {"'=cmd|' /C calc'!A0", "stores", "web-shop"}
    assert units["web-shop"]["queued"] == "7" and units["web-shop"]["delivery_rate"] == "0.6667"
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())


def parts(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_scheduled_report_fires_once_and_renders(runtime: Runtime, project_dir: Any,
                                                 client: TestClient) -> None:
    seed_week(runtime)
    first = runtime.maintain()
    assert first["reports_queued"] == 2
    assert runtime.maintain()["reports_queued"] == 0
    other_node = make_runtime(project_dir, runtime.settings.database_url or "", runtime.clock)
    try:
        assert other_node.maintain()["reports_queued"] == 0
    finally:
        other_node.close()
    with runtime.engine.connect() as conn:
        ticks = conn.execute(select(tables.schedule_ticks)).all()
        reports = conn.execute(select(func.count()).where(
            tables.messages.c.message_type == "report")).scalar()
    assert [(t.job, t.tick, t.done) for t in ticks] == [
        ("report:web-shop-weekly", "2026-01-05T10:00", True)]
    assert reports == 2
    assert runtime.dispatcher().step() >= 2
    with runtime.engine.connect() as conn:
        raws = conn.execute(select(tables.captures.c.raw).join(
            tables.messages, tables.messages.c.id == tables.captures.c.message_id).where(
            tables.messages.c.message_type == "report")).scalars().all()
    assert len(raws) == 2
    mail = parts(raws[0])
    assert mail["Subject"] == "ACME Outdoor, web-shop: messages 2025-12-29 to 2026-01-04"
    assert mail["List-Unsubscribe"] and mail["List-Unsubscribe-Post"]
    related = next(p for p in mail.walk() if p.get_content_type() == "multipart/related")
    html = next(p for p in related.walk() if p.get_content_type() == "text/html").get_content()
    images = [p for p in related.walk() if p.get_content_maintype() == "image"]
    assert len(images) == 2
    for image in images:
        cid = str(image["Content-ID"]).strip("<>")
        assert f"cid:{cid}" in html
        png = image.get_payload(decode=True)
        assert isinstance(png, bytes)
        assert png.startswith(b"\x89PNG") and Image.open(io.BytesIO(png)).size == (720, 360)
    assert "order.confirmed" in html and "<td" in html
    (attachment,) = [p for p in mail.iter_attachments() if p.get_content_type() == "text/csv"]
    assert attachment.get_filename() == "web-shop-weekly-2025-12-29-2026-01-04.csv"
    table = list(csv.DictReader(io.StringIO(attachment.get_content())))
    assert sum(int(r["queued"]) for r in table) == 7  # web-shop, inside the period
    assert {r["message_type"] for r in table} == {"order.confirmed", "order.shipped"}


def test_send_a_report_now(client: TestClient, runtime: Runtime) -> None:
    answer = client.post("/v1/reports/web-shop-weekly/send")
    assert answer.status_code == 202 and len(answer.json()["messages"]) == 2
    assert client.post("/v1/reports/nope/send").status_code == 404


def test_cli_metrics_csv_and_send(runtime: Runtime, project_dir: Any) -> None:
    from click.testing import CliRunner

    from tidings.cli import cli
    seed_week(runtime)
    base = ["--project", str(project_dir), "--database-url", runtime.settings.database_url or ""]
    runner = CliRunner()
    shown = runner.invoke(cli, [*base, "reports", "metrics", "-t", "acme", "--start",
                                "2025-12-29", "--end", "2026-01-05", "--group-by",
                                "business_unit", "--csv"])
    assert shown.exit_code == 0, shown.output
    rows = {r["business_unit"]: r for r in csv.DictReader(io.StringIO(shown.stdout))}
    assert rows["web-shop"]["queued"] == "7" and "'=cmd|' /C calc'!A0" in rows
    lines = runner.invoke(cli, [*base, "reports", "metrics", "-t", "acme", "--start",
                                "2025-12-29", "--end", "2026-01-05"]).stdout.splitlines()
    assert len(lines) == 3 and '"day": "2026-01-02"' in lines[0]
    sent = runner.invoke(cli, [*base, "reports", "send", "web-shop-weekly", "-t", "acme"])
    assert sent.exit_code == 0 and sent.stdout.startswith("queued 2 message(s)")
    unknown = runner.invoke(cli, [*base, "reports", "send", "nope", "-t", "acme"])
    assert unknown.exit_code != 0 and "no report" in unknown.output
    wrong = runner.invoke(cli, [*base, "reports", "metrics", "-t", "acme", "--group-by", "x"])
    assert wrong.exit_code != 0 and "unknown dimension" in wrong.output
