"""Returned mail over SMTP: VERP out, bounces and complaints back in, suppression after.

flufl.bounce's own sample bounces are fed to the receiver as returns of real outbox
messages; each is classified as the library's test table says, and drives suppression.
"""

from __future__ import annotations

import json
import smtplib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.helpers import make_runtime
from tests.integration.feedback.conftest import feedback_project, welcome
from tests.smtp_sink import SmtpServer, free_port, use_smtp
from tidings.clock import FakeClock
from tidings.domain.states import State
from tidings.feedback import verp
from tidings.feedback.receiver import ReturnsHandler, ReturnsReceiver, accept_return
from tidings.ingest.service import InboundEvent
from tidings.outbox.messages import NewMessage
from tidings.runtime.core import Runtime
from tidings.storage import tables
from tidings.storage.tables_feedback import suppressions

RETURNS = Path(__file__).parents[2] / "fixtures" / "feedback" / "returns"
TABLE: dict[str, dict[str, list[str]]] = json.loads((RETURNS / "flufl_table.json").read_text())
DOMAIN = "bounces.acme.example"


@pytest.fixture
def feedback_toml() -> str:
    return f'return_path_domain = "{DOMAIN}"\nsoft_bounce_limit = 2\n'


def sent_message(runtime: Runtime, recipient: str, n: int) -> tuple[int, str]:
    """A message to ``recipient`` in state sent, and its VERP return address."""
    now = runtime.clock.now()
    header = f"<m{n}-{recipient}@acme.example>".replace("@", ".", 1)
    new = NewMessage(dedupe_key=f"t{n}", channel="email", provider="capture",
                     recipient=recipient, to=[recipient], sender="orders@acme.example",
                     subject="s", body_text="t", message_id_header=header, due_at=now)
    with runtime.engine.begin() as conn:
        (message_id,) = runtime.outbox.insert(conn, "acme", None, [new], now)
        conn.execute(tables.messages.update().where(tables.messages.c.id == message_id)
                     .values(state=State.SENT.value, sent_at=now))
    assert message_id is not None
    return message_id, verp.return_path(f"bounces@{DOMAIN}", message_id, header)


def crlf(path: Path) -> bytes:
    """The file with CRLF line ends, as it travels over SMTP."""
    return path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def suppressed(runtime: Runtime) -> dict[str, str]:
    with runtime.engine.connect() as conn:
        return dict(conn.execute(select(suppressions.c.address, suppressions.c.reason)).all())


def test_verp_out_and_a_dsn_back_over_smtp(project_dir: Path, db_url: str, clock: FakeClock,
                                           feedback_toml: str) -> None:
    feedback_project(project_dir, feedback_toml)
    with SmtpServer() as mx:
        use_smtp(project_dir, mx.port)
        runtime = make_runtime(project_dir, db_url, clock)
        try:
            event = welcome(1, email="gone@example.org")
            (accepted,) = runtime.ingestor.accept(
                "acme", [InboundEvent(event["type"], event["data"], event["id"])], "test")
            (message_id,) = accepted.message_ids
            assert runtime.dispatcher().step() == 1
            (received,) = mx.recorder.snapshot()
            handler = ReturnsHandler(runtime.feedback.store, runtime.clock.now, DOMAIN)
            with ReturnsReceiver(handler, "127.0.0.1", free_port()) as receiver, \
                    smtplib.SMTP("127.0.0.1", receiver.port) as smtp:
                smtp.sendmail("", [received.mail_from], crlf(RETURNS / "dsn_verp.eml"))
            message = runtime.outbox.get("acme", message_id)
            assert received.mail_from == verp.return_path(f"bounces@{DOMAIN}", message_id,
                                                          message["message_id_header"])
            assert b"Return-Path" not in received.data
            assert message["state"] == "bounced"
            feedback = [t for t in message["timeline"] if t["kind"] == "feedback"]
            assert [t["actor"] for t in feedback] == ["smtp-return"]
            assert json.loads(feedback[0]["response"])["code"] == "5.1.1"
            assert suppressed(runtime) == {"gone@example.org": "hard_bounce"}
        finally:
            runtime.close()


@pytest.mark.parametrize("sample", ["postfix_01.txt", "dsn_09.txt", "qmail_01.txt"])
def test_the_receiver_refuses_foreign_recipients_and_applies_ours(runtime: Runtime,
                                                                  sample: str) -> None:
    address = TABLE[sample]["permanent"][0]
    message_id, return_address = sent_message(runtime, address, 1)
    handler = ReturnsHandler(runtime.feedback.store, runtime.clock.now, DOMAIN)
    with ReturnsReceiver(handler, "127.0.0.1", free_port()) as receiver, \
            smtplib.SMTP("127.0.0.1", receiver.port) as smtp:
        smtp.ehlo()
        smtp.mail("")
        assert smtp.rcpt("postmaster@elsewhere.example")[0] == 550
        assert smtp.rcpt(return_address)[0] == 250
        assert smtp.data(crlf(RETURNS / "flufl" / sample))[0] == 250
    assert runtime.outbox.get("acme", message_id)["state"] == "bounced"
    assert suppressed(runtime) == {address: "hard_bounce"}


def test_library_samples_are_classified_as_it_says_and_drive_suppression(
        runtime: Runtime) -> None:
    n, expected = 0, {}
    for name, said in sorted(TABLE.items()):
        raw = (RETURNS / "flufl" / name).read_bytes()
        for address in said["permanent"][:1]:
            n += 1
            message_id, to = sent_message(runtime, address, n)
            applied = accept_return(runtime.feedback.store, to, raw, runtime.clock.now())
            assert (applied.outcome, applied.status) == ("applied", "hard_bounce"), name
            assert runtime.outbox.get("acme", message_id)["state"] == "bounced", name
            expected[address] = "hard_bounce"
        soft = [a for a in said["temporary"] if a not in said["permanent"]]
        for address in soft[:1]:
            for attempt in (1, 2):  # soft_bounce_limit = 2
                n += 1
                message_id, to = sent_message(runtime, address, n)
                applied = accept_return(runtime.feedback.store, to, raw, runtime.clock.now())
                assert applied.status == "soft_bounce", name
                assert runtime.outbox.get("acme", message_id)["state"] == "sent"
                assert (address in suppressed(runtime)) is (attempt == 2 or address in expected)
            expected.setdefault(address, "soft_bounce")
    assert suppressed(runtime) == expected
    assert len(expected) > 40 and "soft_bounce" in expected.values()


def test_forged_or_unknown_returns_record_nothing(runtime: Runtime) -> None:
    message_id, to = sent_message(runtime, "xxxxx@local.ie", 1)
    raw = (RETURNS / "flufl" / "postfix_01.txt").read_bytes()
    forged = to.replace(to.split("-")[1][:13], "a" * 13)
    assert accept_return(runtime.feedback.store, forged, raw, runtime.clock.now()).outcome == \
        "unknown_message"
    other = verp.return_path(f"bounces@{DOMAIN}", message_id + 1000, "<x@y>")
    assert accept_return(runtime.feedback.store, other, raw, runtime.clock.now()).outcome == \
        "unknown_message"
    assert accept_return(runtime.feedback.store, f"bounces@{DOMAIN}", raw,
                         runtime.clock.now()).outcome == "unknown_message"
    assert runtime.outbox.get("acme", message_id)["state"] == "sent" and suppressed(runtime) == {}


def test_complaint_and_correlation_by_message_id(runtime: Runtime) -> None:
    _, to = sent_message(runtime, "ada@example.com", 1)
    arf = (RETURNS / "arf_abuse.eml").read_bytes()
    applied = accept_return(runtime.feedback.store, to, arf, runtime.clock.now())
    assert (applied.outcome, applied.status) == ("applied", "complained")
    again = accept_return(runtime.feedback.store, to, arf, runtime.clock.now())
    assert again.outcome == "duplicate"
    assert suppressed(runtime) == {"ada@example.com": "complained"}
    # a DSN to the plain return address finds its message by the original's Message-ID
    second, _ = sent_message(runtime, "gone@example.org", 2)
    with runtime.engine.begin() as conn:
        conn.execute(tables.messages.update().where(tables.messages.c.id == second).values(
            message_id_header="<0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f@acme.example>"))
    runtime.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    dsn = (RETURNS / "dsn_verp.eml").read_bytes()
    assert accept_return(runtime.feedback.store, f"bounces@{DOMAIN}", dsn,
                         runtime.clock.now()).message_id == second
    assert runtime.outbox.get("acme", second)["state"] == "bounced"
