"""SmtpProvider against a real aiosmtpd server on 127.0.0.1.

The reply table runs each (scripted server reply -> expected outcome) row over
a real SMTP session; the other tests cover TLS, AUTH, lost connections,
reconnects and connection reuse.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from tidings.domain.outcomes import Bounced, Deferred, Failed, Sent

QUEUED = "250 2.0.0 Ok: queued as ABC123"
JANE = "jane@example.org"
JOHN = "john@example.org"

# aiosmtpd warns when a test server takes AUTH without TLS, which three tests do on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@dataclass(frozen=True)
class Row:
    """A server script and the outcome it must produce."""

    mail: str = "250 OK"
    rcpt: dict[str, str] = field(default_factory=dict)
    data: str = QUEUED
    recipients: tuple[str, ...] = (JANE,)
    kind: type = Sent
    failover: bool | None = None
    hard: bool | None = None
    reason_has: str = ""


TABLE: dict[str, Row] = {
    "250 queued": Row(kind=Sent, reason_has="queued as ABC123"),
    "MAIL 451 temporary": Row(mail="451 4.3.0 Try later", kind=Deferred, failover=False),
    "MAIL 421 closing": Row(mail="421 4.3.2 Shutting down", kind=Deferred, failover=True),
    "MAIL 550 sender refused": Row(mail="550 5.1.8 Bad sender", kind=Failed,
                                   reason_has="5.1.8"),
    "MAIL 552 too big": Row(mail="552 5.3.4 Message too big", kind=Failed),
    "MAIL 530 auth required": Row(mail="530 5.7.0 Authentication required", kind=Deferred,
                                  failover=True, reason_has="auth"),
    "MAIL 554 5.7.1 policy": Row(mail="554 5.7.1 Client host blocked", kind=Deferred,
                                 failover=True, reason_has="policy"),
    "RCPT 450 mailbox busy": Row(rcpt={JANE: "450 4.2.1 Mailbox busy"}, kind=Deferred,
                                 failover=False),
    "RCPT 550 unknown user": Row(rcpt={JANE: "550 5.1.1 User unknown"}, kind=Bounced,
                                 hard=True, reason_has="5.1.1"),
    "RCPT 552 mailbox full": Row(rcpt={JANE: "552 5.2.2 Mailbox full"}, kind=Bounced,
                                 hard=False),
    "RCPT 550 5.2.2 mailbox full": Row(rcpt={JANE: "550 5.2.2 Over quota"}, kind=Bounced,
                                       hard=False),
    "RCPT 554 5.7.1 relay denied": Row(rcpt={JANE: "554 5.7.1 Relay access denied"},
                                       kind=Deferred, failover=True, reason_has="policy"),
    "RCPT 421 closing": Row(rcpt={JANE: "421 4.7.0 Too many errors"}, kind=Deferred,
                            failover=True),
    "RCPT all refused, one temporary": Row(
        rcpt={JANE: "550 5.1.1 User unknown", JOHN: "451 4.3.0 Try later"},
        recipients=(JANE, JOHN), kind=Deferred, failover=False),
    "RCPT all refused, both permanent": Row(
        rcpt={JANE: "550 5.1.1 User unknown", JOHN: "552 5.2.2 Mailbox full"},
        recipients=(JANE, JOHN), kind=Bounced, hard=False),
    "RCPT some refused": Row(rcpt={JOHN: "550 5.1.1 User unknown"}, recipients=(JANE, JOHN),
                             kind=Sent, reason_has="refused: john@example.org 550 5.1.1"),
    "DATA 451 temporary": Row(data="451 4.3.0 Queue full", kind=Deferred, failover=False),
    "DATA 421 closing": Row(data="421 4.3.2 Going down", kind=Deferred, failover=True),
    "DATA 554 content": Row(data="554 5.6.0 Message content rejected", kind=Failed),
    "DATA 550 5.7.1 spam": Row(data="550 5.7.1 Message rejected as spam", kind=Failed,
                               reason_has="5.7.1"),
    "DATA 552 5.2.2 mailbox full": Row(data="552 5.2.2 Mailbox full", kind=Bounced, hard=False),
    "DATA 550 5.1.1 late recipient check": Row(data="550 5.1.1 User unknown", kind=Bounced,
                                               hard=True),
}


def outcome_text(outcome: Any) -> str:
    return getattr(outcome, "reason", None) or getattr(outcome, "response", "")


@pytest.mark.parametrize("row", TABLE.values(), ids=TABLE.keys())
def test_server_reply_becomes_outcome(row: Row, handler, plain_server, kit) -> None:
    handler.script.mail, handler.script.rcpt, handler.script.data = row.mail, row.rcpt, row.data
    provider = kit.provider_for(plain_server)
    try:
        [outcome] = provider.send_batch([kit.envelope(recipients=list(row.recipients))])
    finally:
        provider.close()
    assert type(outcome) is row.kind, outcome
    if row.failover is not None:
        assert outcome.failover is row.failover
    if row.hard is not None:
        assert outcome.hard is row.hard
    assert row.reason_has in outcome_text(outcome)


def test_sent_carries_the_response_and_queue_id(handler, plain_server, kit) -> None:
    provider = kit.provider_for(plain_server)
    [outcome] = provider.send_batch([kit.envelope()])
    provider.close()
    assert outcome == Sent(response=QUEUED, provider_id="ABC123")
    [got] = handler.received
    assert got.mail_from == "orders@shop.example" and got.rcpt_tos == [JANE]
    assert got.content == kit.message(1)  # dot-stuffing undone by the server, bytes intact
    assert "SIZE=" + str(len(kit.message(1))) in got.mail_options


def test_after_a_refusal_the_session_is_reset_and_reused(handler, plain_server, kit) -> None:
    handler.script.rcpt = {"gone@example.org": "550 5.1.1 User unknown"}
    provider = kit.provider_for(plain_server)
    outcomes = provider.send_batch(
        [kit.envelope(1), kit.envelope(2, recipients=["gone@example.org"]), kit.envelope(3)]
    )
    provider.close()
    assert [type(o) for o in outcomes] == [Sent, Bounced, Sent]
    assert handler.rsets == 1
    assert len(handler.peers) == 1


def test_batch_keeps_order_and_length(handler, plain_server, kit) -> None:
    handler.script.rcpt = {"b@example.org": "550 5.1.1 no", "d@example.org": "451 4.3.0 later"}
    rcpts = ["a@example.org", "b@example.org", "c@example.org", "d@example.org"]
    provider = kit.provider_for(plain_server)
    outcomes = provider.send_batch([kit.envelope(i, recipients=[r]) for i, r in enumerate(rcpts)])
    provider.close()
    assert [type(o) for o in outcomes] == [Sent, Bounced, Sent, Deferred]


def test_drop_after_data_is_an_unknown_result_and_the_next_message_reconnects(
    handler, plain_server, kit
) -> None:
    handler.script.drop_after_data = True
    provider = kit.provider_for(plain_server)
    [lost] = provider.send_batch([kit.envelope(1)])
    handler.script.drop_after_data = False
    [sent] = provider.send_batch([kit.envelope(2)])
    provider.close()
    assert isinstance(lost, Deferred) and lost.failover
    assert "result unknown" in lost.reason
    assert isinstance(sent, Sent)


def test_drop_in_the_middle_of_the_message_body_is_an_unknown_result(kit) -> None:
    """A bare socket server: answers up to 354, reads part of the body, hangs up."""
    body_bytes_read: list[int] = []

    def serve(listener: socket.socket) -> None:
        conn, _ = listener.accept()
        with conn, conn.makefile("rb") as reader:
            conn.sendall(b"220 fake ESMTP\r\n")
            for reply in (b"250 fake\r\n", b"250 OK\r\n", b"250 OK\r\n", b"354 go on\r\n"):
                reader.readline()  # EHLO, MAIL, RCPT, DATA
                conn.sendall(reply)
            body_bytes_read.append(len(reader.read(2000)))

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(5)
        server = threading.Thread(target=serve, args=(listener,), daemon=True)
        server.start()
        provider = kit.provider_for(_Nowhere(listener.getsockname()[1]), timeout_seconds=2.0)
        [outcome] = provider.send_batch([kit.envelope(data=kit.message(body="y" * 20_000))])
        server.join(5)
    assert body_bytes_read == [2000]
    assert isinstance(outcome, Deferred) and outcome.failover
    assert "result unknown" in outcome.reason


def test_idle_connection_closed_by_server_is_reopened(smtp_server, handler, kit) -> None:
    with smtp_server(timeout=0.3) as controller:  # aiosmtpd closes sessions idle 0.3 s
        provider = kit.provider_for(controller)
        first = provider.send_batch([kit.envelope(1)])
        time.sleep(0.8)
        second = provider.send_batch([kit.envelope(2)])
        provider.close()
    assert [type(o) for o in first + second] == [Sent, Sent]
    assert len(handler.peers) == 2


def test_thousand_messages_over_one_connection(handler, plain_server, kit) -> None:
    provider = kit.provider_for(plain_server)
    data = kit.message(1, body="x" * 10_000 + "\n")
    envelopes = [kit.envelope(i, data=data) for i in range(1000)]
    outcomes = []
    for start in range(0, 1000, provider.max_batch):
        outcomes += provider.send_batch(envelopes[start:start + provider.max_batch])
    provider.close()
    assert all(isinstance(o, Sent) for o in outcomes) and len(outcomes) == 1000
    assert len(handler.received) == 1000
    assert len(handler.peers) == 1


def test_connections_are_retired_after_the_configured_count(handler, plain_server, kit) -> None:
    provider = kit.provider_for(plain_server, max_messages_per_connection=3)
    outcomes = provider.send_batch([kit.envelope(i) for i in range(7)])
    provider.close()
    assert all(isinstance(o, Sent) for o in outcomes)
    assert len(handler.peers) == 3


def test_connection_refused_defers_the_whole_batch_with_failover(kit) -> None:
    port = kit.free_port()
    provider = kit.provider_for(_Nowhere(port))
    started = time.monotonic()
    outcomes = provider.send_batch([kit.envelope(i) for i in range(3)])
    assert time.monotonic() - started < 2
    assert len(outcomes) == 3
    for outcome in outcomes:
        assert isinstance(outcome, Deferred) and outcome.failover
        assert outcome.reason.startswith("connect:")


def test_silent_server_times_out_into_deferred(kit) -> None:
    with socket.socket() as listener:  # accepts TCP, never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        provider = kit.provider_for(_Nowhere(listener.getsockname()[1]), timeout_seconds=0.3)
        [outcome] = provider.send_batch([kit.envelope()])
    assert isinstance(outcome, Deferred) and outcome.failover
    assert outcome.reason.startswith("connect:") and "timed out" in outcome.reason


def test_message_over_the_limit_fails_without_sending(handler, plain_server, kit) -> None:
    provider = kit.provider_for(plain_server, max_message_bytes=1000)
    big, small = kit.envelope(1, data=kit.message(1, body="x" * 2000)), kit.envelope(2)
    outcomes = provider.send_batch([big, small])
    provider.close()
    assert isinstance(outcomes[0], Failed) and isinstance(outcomes[1], Sent)
    assert len(handler.received) == 1


def test_non_ascii_address_uses_smtputf8(handler, smtp_server, kit) -> None:
    with smtp_server(enable_SMTPUTF8=True) as controller:
        provider = kit.provider_for(controller)
        [outcome] = provider.send_batch([kit.envelope(recipients=["jürgen@example.org"])])
        provider.close()
    assert isinstance(outcome, Sent)
    assert "SMTPUTF8" in handler.received[0].mail_options


def test_non_ascii_address_without_smtputf8_fails(smtp_server, kit) -> None:
    with smtp_server(enable_SMTPUTF8=False) as controller:  # the Controller enables it
        provider = kit.provider_for(controller)
        outcomes = provider.send_batch([kit.envelope(1, recipients=["jürgen@example.org"]),
                                        kit.envelope(2)])
        provider.close()
    assert isinstance(outcomes[0], Failed) and "SMTPUTF8" in outcomes[0].reason
    assert isinstance(outcomes[1], Sent)


# -- TLS ---------------------------------------------------------------------


def test_starttls_with_a_trusted_self_signed_certificate(smtp_server, handler, kit,
                                                         tls_files) -> None:
    with smtp_server(tls_context=tls_files.server_context(), require_starttls=True) as ctl:
        provider = kit.provider_for(ctl, security="starttls", ca_file=str(tls_files.cert))
        outcomes = provider.send_batch([kit.envelope(1), kit.envelope(2)])
        provider.close()
    assert [type(o) for o in outcomes] == [Sent, Sent]


def test_starttls_with_an_untrusted_certificate_defers_with_failover(smtp_server, kit,
                                                                    tls_files) -> None:
    with smtp_server(tls_context=tls_files.server_context()) as ctl:
        provider = kit.provider_for(ctl, security="starttls")
        [outcome] = provider.send_batch([kit.envelope()])
    assert isinstance(outcome, Deferred) and outcome.failover
    assert outcome.reason.startswith("tls:") and "CERTIFICATE_VERIFY_FAILED" in outcome.reason


def test_starttls_without_verification_when_asked(smtp_server, kit, tls_files) -> None:
    with smtp_server(tls_context=tls_files.server_context()) as ctl:
        provider = kit.provider_for(ctl, security="starttls", verify_tls=False)
        [outcome] = provider.send_batch([kit.envelope()])
        provider.close()
    assert isinstance(outcome, Sent)


def test_starttls_not_offered_defers_with_failover(plain_server, kit) -> None:
    provider = kit.provider_for(plain_server, security="starttls")
    [outcome] = provider.send_batch([kit.envelope()])
    assert isinstance(outcome, Deferred) and outcome.failover
    assert outcome.reason.startswith("tls:")


def test_implicit_tls(smtp_server, kit, tls_files) -> None:
    with smtp_server(ssl_context=tls_files.server_context()) as ctl:
        provider = kit.provider_for(ctl, security="tls", ca_file=str(tls_files.cert))
        [outcome] = provider.send_batch([kit.envelope()])
        provider.close()
    assert isinstance(outcome, Sent)


def test_implicit_tls_against_a_plain_server_is_a_tls_failure(plain_server, kit) -> None:
    provider = kit.provider_for(plain_server, security="tls", timeout_seconds=1.0)
    [outcome] = provider.send_batch([kit.envelope()])
    assert isinstance(outcome, Deferred) and outcome.failover
    assert outcome.reason.startswith("tls:")


# -- AUTH --------------------------------------------------------------------


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_auth_over_starttls(mechanism, smtp_server, handler, kit, tls_files) -> None:
    other = {"LOGIN": "PLAIN", "PLAIN": "LOGIN"}[mechanism]
    with smtp_server(tls_context=tls_files.server_context(), authenticator=kit.authenticator,
                     auth_required=True, auth_exclude_mechanism=[other]) as ctl:
        provider = kit.provider_for(ctl, security="starttls", ca_file=str(tls_files.cert),
                                    **kit.credentials())
        [outcome] = provider.send_batch([kit.envelope()])
        provider.close()
    assert isinstance(outcome, Sent), outcome


def test_auth_plain_on_loopback_without_tls(smtp_server, kit) -> None:
    with smtp_server(authenticator=kit.authenticator, auth_required=True,
                     auth_require_tls=False) as ctl:
        provider = kit.provider_for(ctl, **kit.credentials())
        [outcome] = provider.send_batch([kit.envelope()])
        provider.close()
    assert isinstance(outcome, Sent), outcome


def test_wrong_password_defers_with_failover_and_never_shows_the_secret(
    smtp_server, kit, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "wrong-" + kit.password
    with smtp_server(authenticator=kit.authenticator, auth_required=True,
                     auth_require_tls=False) as ctl:
        provider = kit.provider_for(ctl, **kit.credentials(secret))
        outcomes = provider.send_batch([kit.envelope(1), kit.envelope(2)])
    assert [type(o) for o in outcomes] == [Deferred, Deferred]
    assert all(o.failover and o.reason.startswith("auth:") for o in outcomes)
    assert "535" in outcomes[0].reason
    shown = repr(provider) + str(outcomes) + caplog.text
    assert secret not in shown and "wrong-" not in shown


def test_server_requiring_auth_refuses_mail_as_auth(smtp_server, kit) -> None:
    with smtp_server(authenticator=kit.authenticator, auth_required=True,
                     auth_require_tls=False) as ctl:
        provider = kit.provider_for(ctl)
        [outcome] = provider.send_batch([kit.envelope()])
        provider.close()
    assert isinstance(outcome, Deferred) and outcome.failover
    assert outcome.reason.startswith("auth:")


@dataclass(frozen=True)
class _Nowhere:
    """Looks like a controller to ``provider_for``; nothing (useful) listens there."""

    port: int
    hostname: str = "127.0.0.1"


def test_pipelining_is_used_when_offered_and_the_body_arrives_intact(monkeypatch) -> None:
    from tests.integration.providers.conftest import (
        ScriptedHandler,
        _server,
        envelope,
        provider_for,
    )
    from tidings.providers import smtp as smtp_module

    calls: list[int] = []
    alone: list[int] = []
    original, send = smtp_module.SmtpProvider._commands, smtp_module.SmtpProvider._send_commands

    def spy(self, conn, env):  # type: ignore[no-untyped-def]
        calls.append(env.key)
        return original(self, conn, env)

    def spy_alone(self, env):  # type: ignore[no-untyped-def]
        alone.append(env.key)
        return send(self, env)

    monkeypatch.setattr(smtp_module.SmtpProvider, "_commands", spy)
    monkeypatch.setattr(smtp_module.SmtpProvider, "_send_commands", spy_alone)
    handler = ScriptedHandler(pipelining=True)
    tricky = b"Subject: dots\r\n\r\n.\r\n..two\r\n.leading dot\r\nlast line without dot\r\n"
    with _server(handler) as controller:
        provider = provider_for(controller)
        outcomes = provider.send_batch([envelope(i) for i in range(1, 6)]
                                       + [envelope(6, data=tricky)])
        provider.close()
    assert all(type(o).__name__ == "Sent" for o in outcomes), outcomes
    assert calls == [1, 2, 3, 4, 5, 6]
    # the first envelope's commands are a write of their own; each next one's follow the
    # body before it (RFC 2920: the body may open a group of commands)
    assert alone == [1]
    assert handler.received[-1].content == tricky
    assert [r.content for r in handler.received[:5]] == [envelope(i).data for i in range(1, 6)]
