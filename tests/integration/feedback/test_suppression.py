"""The suppression list: no provider call for a suppressed recipient; API, CLI, unsubscribe."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.helpers import make_runtime
from tests.integration.feedback.conftest import feedback_project, welcome
from tests.smtp_sink import SmtpServer, use_smtp
from tidings.channels.unsubscribe import UnsubscribeLinks
from tidings.cli import cli
from tidings.clock import FakeClock
from tidings.ingest.service import InboundEvent
from tidings.runtime.core import Runtime
from tidings.storage import tables


def ingest(runtime: Runtime, *emails: str, first: int = 0) -> list[int]:
    events = [welcome(first + i, email=e) for i, e in enumerate(emails)]
    accepted = runtime.ingestor.accept(
        "acme", [InboundEvent(e["type"], e["data"], e["id"]) for e in events], "test")
    return [a.message_ids[0] for a in accepted]


def test_a_suppressed_recipient_gets_no_provider_call(project_dir: Path, db_url: str,
                                                      clock: FakeClock) -> None:
    feedback_project(project_dir)
    with SmtpServer() as mx:
        use_smtp(project_dir, mx.port)
        runtime = make_runtime(project_dir, db_url, clock)
        try:
            runtime.feedback.suppressions.add("acme", "Gone@Example.org", "manual", "asked",
                                              "test", clock.now())
            gone, ok = ingest(runtime, "gone@example.org", "ok@example.org")
            assert runtime.dispatcher().step() == 1  # the suppressed one is not counted
            assert [r.rcpt_tos for r in mx.recorder.snapshot()] == [["ok@example.org"]]
            message = runtime.outbox.get("acme", gone)
            assert message["state"] == "suppressed"
            assert message["last_error"] == "recipient suppressed: gone@example.org (manual)"
            assert runtime.outbox.get("acme", ok)["state"] == "sent"
            other_tenant = runtime.feedback.suppressions.list("other")
            assert other_tenant == []
        finally:
            runtime.close()


def test_api_list_add_remove(client: TestClient) -> None:
    added = client.post("/v1/suppressions", json={"address": "Ada@Example.com",
                                                   "detail": "phoned us"})
    assert (added.status_code, added.json()) == (201, {"address": "ada@example.com",
                                                       "reason": "manual", "changed": True})
    client.post("/v1/suppressions", json={"address": "bob@example.com",
                                          "reason": "complained"})
    rows = client.get("/v1/suppressions").json()["suppressions"]
    assert [(r["address"], r["reason"], r["detail"], r["source"]) for r in rows] == [
        ("ada@example.com", "manual", "phoned us", "api:acme"),
        ("bob@example.com", "complained", "", "api:acme")]
    assert all(r["created_at"] for r in rows)
    only = client.get("/v1/suppressions", params={"reason": "complained"}).json()
    assert [r["address"] for r in only["suppressions"]] == ["bob@example.com"]
    assert client.delete("/v1/suppressions/ADA@example.com").status_code == 204
    assert client.delete("/v1/suppressions/ada@example.com").status_code == 404
    bad = client.post("/v1/suppressions", json={"address": "nobody"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/address"
    assert client.get("/v1/suppressions", headers={"Authorization": "Bearer x"}).status_code \
        == 401


def test_cli_list_add_remove(runtime: Runtime, project_dir: Path) -> None:
    url = runtime.settings.database_url or ""
    base = ["--project", str(project_dir), "--database-url", url]
    runner = CliRunner()
    added = runner.invoke(cli, [*base, "suppression", "add", "Ada@Example.com", "-t", "acme",
                                "--detail", "asked by phone"])
    assert added.exit_code == 0 and "ada@example.com\tmanual\tadded" in added.output
    listed = runner.invoke(cli, [*base, "suppression", "list", "-t", "acme"])
    assert "ada@example.com\tmanual\t" in listed.output and "asked by phone" in listed.output
    removed = runner.invoke(cli, [*base, "suppression", "remove", "ada@example.com", "-t",
                                  "acme"])
    assert removed.exit_code == 0
    again = runner.invoke(cli, [*base, "suppression", "remove", "ada@example.com", "-t", "acme"])
    assert again.exit_code != 0 and "not suppressed" in again.output
    assert "no suppressed addresses" in runner.invoke(
        cli, [*base, "suppression", "list", "-t", "acme"]).output


@pytest.mark.parametrize("method", ["one-click", "form"])
def test_one_click_unsubscribe(client: TestClient, runtime: Runtime, method: str) -> None:
    (message_id,) = ingest(runtime, "ada@example.com")
    runtime.dispatcher().step()
    links = UnsubscribeLinks(runtime.settings.secret_key.get_secret_value(),
                             "http://127.0.0.1:8025")
    token = links.token("acme", message_id)
    page = client.get(f"/u/{token}")
    assert page.status_code == 200 and f"action='/u/{token}'" in page.text
    assert runtime.feedback.suppressions.list("acme") == []  # a GET changes nothing
    body = {"List-Unsubscribe": "One-Click"}
    done = client.post(f"/u/{token}", data=body) if method == "form" else \
        client.post(f"/u/{token}", content=b"List-Unsubscribe=One-Click",
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200 and "unsubscribed" in done.text
    (row,) = runtime.feedback.suppressions.list("acme")
    assert (row["address"], row["reason"], row["source"]) == ("ada@example.com", "unsubscribed",
                                                               "unsubscribe")
    timeline = runtime.outbox.get("acme", message_id)["timeline"]
    assert [t["reason"] for t in timeline if t["kind"] == "feedback"] == \
        ["unsubscribed: one-click unsubscribe"]


def test_forged_unsubscribe_and_other_tenant(client: TestClient, runtime: Runtime) -> None:
    (message_id,) = ingest(runtime, "ada@example.com")
    assert client.post("/u/not-a-token").status_code == 404
    assert client.get("/u/not-a-token").status_code == 404
    links = UnsubscribeLinks(runtime.settings.secret_key.get_secret_value(), "http://x")
    assert client.post(f"/u/{links.token('other', message_id)}").status_code == 404
    forged = UnsubscribeLinks("another-secret-of-forty-characters-xxxxx", "http://x")
    assert client.post(f"/u/{forged.token('acme', message_id)}").status_code == 404
    assert runtime.feedback.suppressions.list("acme") == []


def test_dispatcher_hard_bounce_suppresses_through_the_follower(project_dir: Path, db_url: str,
                                                                clock: FakeClock) -> None:
    feedback_project(project_dir)

    class Refusing(SmtpServer):
        pass

    with Refusing() as mx:
        async def handle_rcpt(server: object, session: object, envelope: object, address: str,
                              options: list[str]) -> str:
            if address.startswith("gone"):
                return "550 5.1.1 <gone@example.org>: user unknown"
            envelope.rcpt_tos.append(address)  # type: ignore[attr-defined]
            return "250 OK"

        mx.recorder.handle_RCPT = handle_rcpt  # type: ignore[attr-defined]
        use_smtp(project_dir, mx.port)
        runtime = make_runtime(project_dir, db_url, clock)
        try:
            (gone,) = ingest(runtime, "gone@example.org")
            runtime.dispatcher().step()
            assert runtime.outbox.get("acme", gone)["state"] == "bounced"
            assert runtime.feedback.suppressions.list("acme") == []
            counts = runtime.maintain()
            assert counts["feedback_followed"] >= 1
            (row,) = runtime.feedback.suppressions.list("acme")
            assert (row["address"], row["reason"], row["source"]) == \
                ("gone@example.org", "hard_bounce", "dispatch")
            runtime.maintain()  # following again adds nothing
            with runtime.engine.connect() as conn:
                feedback_rows = conn.execute(select(func.count()).where(
                    tables.message_events.c.kind == "feedback")).scalar()
            assert feedback_rows == 1
            (second,) = ingest(runtime, "gone@example.org", first=1)
            runtime.dispatcher().step()
            assert runtime.outbox.get("acme", second)["state"] == "suppressed"
        finally:
            runtime.close()
