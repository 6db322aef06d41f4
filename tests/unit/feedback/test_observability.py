"""JSON logs without secrets, and the error codes the provider-error counter uses."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from tidings.observability import logs
from tidings.observability.prometheus import error_code

PASSWORD = "s3cret-Pa55word-for-smtp"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    out = io.StringIO()
    logs.configure("info", out)
    logs.REDACTOR.add([PASSWORD])
    yield out
    root.handlers = saved[0]
    root.setLevel(saved[1])
    structlog.reset_defaults()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_structlog_lines_are_json_with_message_ids(stream: io.StringIO) -> None:
    structlog.get_logger("tidings.feedback").info("feedback.open", message_id=42, human=True)
    (line,) = lines(stream)
    assert line["event"] == "feedback.open" and line["message_id"] == 42
    assert line["level"] == "info" and line["logger"] == "tidings.feedback" and line["timestamp"]


def test_secrets_never_reach_the_stream(stream: io.StringIO) -> None:
    log = structlog.get_logger("x")
    log.info("login", password=PASSWORD, smtp_password="other-value", api_key="k-123")
    log.info(f"connecting with {PASSWORD}", detail={"nested": [PASSWORD], "token": "t-1"})
    std = logging.getLogger("tidings.providers.smtp")
    std.warning("auth failed for user tidings with %s", PASSWORD)
    try:
        raise RuntimeError(f"535 authentication failed: {PASSWORD}")
    except RuntimeError:
        std.exception("provider smtp raised")
    text = stream.getvalue()
    assert PASSWORD not in text and "other-value" not in text and "k-123" not in text
    assert "t-1" not in text
    parsed = lines(stream)
    assert len(parsed) == 4 and all(isinstance(p, dict) for p in parsed)
    assert parsed[0]["password"] == logs.REDACTED
    assert "535 authentication failed: [redacted]" in str(parsed[3]["exception"])


def test_protect_reads_env_names_of_the_project() -> None:
    class Provider:
        settings = {"host": "h", "password_env": "SMTP_PW", "user": "u"}
        secret_env = "API_KEY_ENV"

    class Project:
        providers = [Provider()]

    logs.protect(Project(), {"SMTP_PW": "pw-from-env-1", "API_KEY_ENV": "key-from-env-2"},
                 "process-secret-xyz", "postgresql://u:db-pass-3@h/db")
    scrubbed = logs.REDACTOR.scrub("pw-from-env-1 key-from-env-2 process-secret-xyz db-pass-3")
    assert scrubbed == " ".join([logs.REDACTED] * 4)


def test_short_values_are_not_registered() -> None:
    logs.REDACTOR.add(["ab", None, ""])
    assert logs.REDACTOR.scrub("ab cd") == "ab cd"


@pytest.mark.parametrize(("text", "code"), [
    ("RCPT: 550 5.1.1 user unknown [5.1.1: no such user]", "5.1.1"),
    ("451 4.3.0 try again later", "4.3.0"),
    ("421 closing", "421"),
    ("connect: [Errno 111] Connection refused", "connect"),
    ("auth: 535 5.7.8 bad credentials", "5.7.8"),
    ("HTTP 503 from vendor [503: Service Unavailable]", "503"),
    ("", "unknown"), (None, "unknown"),
])
def test_error_code(text: str | None, code: str) -> None:
    assert error_code(text) == code
