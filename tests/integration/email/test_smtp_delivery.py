"""From an HTTP event to a real SMTP server: the MIME that arrives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.helpers import TENANT, make_runtime, order_confirmed
from tests.smtp_sink import SmtpServer, use_smtp
from tidings.api.app import create_app
from tidings.clock import FakeClock


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def test_delivers_multipart_with_inlined_css(project_dir: Path, db_url: str, clock: FakeClock,
                                             smtp: SmtpServer) -> None:
    use_smtp(project_dir, smtp.port)
    runtime = make_runtime(project_dir, db_url, clock)
    key = runtime.keys.create(TENANT, "t", clock.now())
    events = [order_confirmed(f"SO-{i}", email=f"c{i}@example.com") for i in range(3)]
    events.append(order_confirmed("SO-DE", email="j@example.de", locale="de"))
    with TestClient(create_app(runtime)) as client:
        answer = client.post("/v1/events", json={"events": events},
                             headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 202
    dispatcher = runtime.dispatcher()
    while dispatcher.step():
        pass
    dispatcher.close()
    received = smtp.recorder.snapshot()
    assert sorted(r.rcpt_tos[0] for r in received) == [
        "c0@example.com", "c1@example.com", "c2@example.com", "j@example.de"]
    ids = set()
    for item in received:
        message = item.parsed()
        assert item.mail_from == "orders@acme.example"
        assert message["From"] == "ACME Outdoor <orders@acme.example>"
        assert message["To"] == item.rcpt_tos[0]
        assert message["MIME-Version"] == "1.0" and message["Date"]
        assert message.get_content_type() == "multipart/alternative"
        text, html = message.iter_parts()
        assert text.get_content_type() == "text/plain"
        assert html.get_content_type() == "text/html"
        body = html.get_content()
        assert "<style" not in body and 'style="' in body      # CSS inlined
        assert "font-weight: bold" in body                      # the .total rule reached its td
        assert "Two-person tent" in text.get_content()
        ids.add(message["Message-ID"])
    german = next(r.parsed() for r in received if r.rcpt_tos == ["j@example.de"])
    assert german["Subject"] == "Ihre Bestellung SO-DE ist bestätigt"
    assert len(ids) == 4
    stored = {runtime.outbox.get(TENANT, m["id"])["message_id_header"]
              for m in runtime.outbox.list(TENANT)}
    assert ids == stored
    assert runtime.outbox.counts(TENANT) == {"sent": 4}


def test_retry_reuses_message_id(project_dir: Path, db_url: str, clock: FakeClock) -> None:
    with SmtpServer() as smtp:
        port = smtp.port
        use_smtp(project_dir, port)
    # the server is gone: the first try defers
    runtime = make_runtime(project_dir, db_url, clock)
    key = runtime.keys.create(TENANT, "t", clock.now())
    with TestClient(create_app(runtime)) as client:
        client.post("/v1/events", json=order_confirmed(),
                    headers={"Authorization": f"Bearer {key}"})
    dispatcher = runtime.dispatcher()
    dispatcher.step()
    assert runtime.outbox.counts(TENANT) == {"deferred": 1}
    server = SmtpServer()
    server.controller.port = port
    with server:
        clock.advance(2)
        dispatcher.step()
        dispatcher.close()
    (row,) = runtime.outbox.list(TENANT)
    message = runtime.outbox.get(TENANT, row["id"])
    assert message["state"] == "sent" and message["attempts"] == 2
    assert server.recorder.snapshot()[0].parsed()["Message-ID"] == message["message_id_header"]
