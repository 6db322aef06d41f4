"""Prometheus /metrics over real traffic, and JSON logs that never show the SMTP password."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import make_runtime
from tests.integration.feedback.conftest import feedback_project, welcome
from tests.smtp_sink import SmtpServer
from tidings.api.app import create_app
from tidings.clock import FakeClock
from tidings.ingest.service import InboundEvent
from tidings.observability import logs
from tidings.runtime.core import Runtime

PASSWORD = "correct-horse-battery-staple-4711"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def ingest(runtime: Runtime, n: int) -> int:
    event = welcome(n)
    (accepted,) = runtime.ingestor.accept(
        "acme", [InboundEvent(event["type"], event["data"], event["id"])], "test")
    return accepted.message_ids[0]


def test_metrics_endpoint(client: TestClient, runtime: Runtime) -> None:
    assert client.get("/metrics").status_code == 200  # starts following here
    ingest(runtime, 1)
    ingest(runtime, 2)
    runtime.clock.advance(30)  # type: ignore[attr-defined]
    waiting = samples(client.get("/metrics").text)
    assert waiting[("tidings_queue_messages", (("provider", "capture"), ("state", "queued")))] \
        == 2
    assert waiting[("tidings_queue_oldest_age_seconds", (("provider", "capture"),))] == 30
    runtime.dispatcher().step()
    answer = client.get("/metrics")
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    done = samples(answer.text)
    assert ("tidings_queue_messages", (("provider", "capture"), ("state", "queued"))) not in done
    assert done[("tidings_send_latency_seconds_count", (("provider", "capture"),))] == 2
    assert done[("tidings_send_latency_seconds_bucket", (("le", "30.0"),
                                                         ("provider", "capture")))] == 2
    assert done[("tidings_send_latency_seconds_bucket", (("le", "10.0"),
                                                         ("provider", "capture")))] == 0


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    logs.configure("info", stream)
    yield stream
    root.handlers = saved[0]
    root.setLevel(saved[1])
    structlog.reset_defaults()


def test_provider_errors_by_code_and_no_password_in_logs(project_dir: Path, db_url: str,
                                                         clock: FakeClock,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         log_stream: io.StringIO) -> None:
    monkeypatch.setenv("TIDINGS_TEST_SMTP_PASSWORD", PASSWORD)
    feedback_project(project_dir)
    with SmtpServer() as mx:  # offers no AUTH without TLS: the login fails
        path = project_dir / "tidings.toml"
        path.write_text(path.read_text().replace(
            "# The embedded default",
            '[[providers]]\nname = "smtp"\nchannel = "email"\ntype = "smtp"\n'
            'from_address = "orders@acme.example"\nsettings = { host = "127.0.0.1", '
            f'port = {mx.port}, security = "none", username = "tidings", '
            'password_env = "TIDINGS_TEST_SMTP_PASSWORD" }\n\n# The embedded default', 1))
        runtime = make_runtime(project_dir, db_url, clock)
        try:
            with TestClient(create_app(runtime)) as http:
                http.get("/metrics")
                message_id = ingest(runtime, 1)
                runtime.dispatcher().step()
                errors = samples(http.get("/metrics").text)
                assert errors[("tidings_provider_errors_total",
                               (("code", "auth"), ("provider", "smtp")))] == 1
                assert runtime.outbox.get("acme", message_id)["state"] == "deferred"
                # what a careless line, a library or a traceback might say
                logging.getLogger("smtplib").warning("AUTH PLAIN tidings %s", PASSWORD)
                structlog.get_logger("test").info("provider.login", message_id=message_id,
                                                  password=PASSWORD, note=f"pw={PASSWORD}")
                try:
                    raise ConnectionError(f"login refused for tidings:{PASSWORD}")
                except ConnectionError:
                    logging.getLogger("tidings.dispatch").exception("provider smtp raised")
        finally:
            runtime.close()
    text = log_stream.getvalue()
    assert PASSWORD not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert any(line.get("message_id") == message_id and line["password"] == logs.REDACTED
               for line in lines)
    assert any("[redacted]" in str(line.get("exception", "")) for line in lines)
    assert all({"event", "level", "timestamp"} <= set(line) for line in lines)
