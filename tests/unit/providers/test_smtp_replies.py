"""SMTP reply -> outcome table and SmtpProvider settings, without sockets."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from tidings.domain.outcomes import Bounced, Deferred, Failed, Sent
from tidings.providers import errors
from tidings.providers.base import Provider
from tidings.providers.smtp import SmtpProvider, classify_reply

REPLIES = [
    # stage, code, text, expected outcome
    ("DATA", 250, "2.0.0 Ok: queued as 4F9D81C2A", Sent("250 2.0.0 Ok: queued as 4F9D81C2A",
                                                       "4F9D81C2A")),
    ("DATA", 250, "OK id=1tXyZa-0001Ab-Cd", Sent("250 OK id=1tXyZa-0001Ab-Cd",
                                                 "1tXyZa-0001Ab-Cd")),
    ("DATA", 250, "2.0.0 OK  1700000000 a1-20020a05 - gsmtp", Sent(
        "250 2.0.0 OK 1700000000 a1-20020a05 - gsmtp", None)),
    ("MAIL", 421, "4.3.2 Service shutting down", Deferred("MAIL: 421 4.3.2 Service shutting down",
                                                         failover=True)),
    ("RCPT", 421, "4.7.0 Too many errors", Deferred("RCPT: 421 4.7.0 Too many errors",
                                                    failover=True)),
    ("MAIL", 451, "4.3.0 Try again later", Deferred("MAIL: 451 4.3.0 Try again later")),
    ("RCPT", 450, "4.2.1 Mailbox busy", Deferred("RCPT: 450 4.2.1 Mailbox busy")),
    ("RCPT", 452, "4.2.2 Mailbox full", Deferred("RCPT: 452 4.2.2 Mailbox full")),
    ("DATA", 451, "4.7.1 Greylisted", Deferred("DATA: 451 4.7.1 Greylisted")),
    ("MAIL", 550, "5.1.8 Sender rejected", Failed("MAIL: 550 5.1.8 Sender rejected")),
    ("MAIL", 552, "5.3.4 Message size exceeds", Failed("MAIL: 552 5.3.4 Message size exceeds")),
    ("MAIL", 530, "5.7.0 Authentication required", Deferred(
        "auth: MAIL 530 5.7.0 Authentication required", failover=True)),
    ("MAIL", 535, "Authentication failed", Deferred("auth: MAIL 535 Authentication failed",
                                                    failover=True)),
    ("MAIL", 550, "5.7.8 Credentials invalid", Deferred(
        "auth: MAIL 550 5.7.8 Credentials invalid", failover=True)),
    ("MAIL", 554, "5.7.1 Client host blocked", Deferred(
        "policy: MAIL 554 5.7.1 Client host blocked", failover=True)),
    ("RCPT", 554, "5.7.1 Relay access denied", Deferred(
        "policy: RCPT 554 5.7.1 Relay access denied", failover=True)),
    ("RCPT", 550, "5.1.1 User unknown", Bounced("RCPT: 550 5.1.1 User unknown", hard=True)),
    ("RCPT", 553, "Mailbox name not allowed", Bounced("RCPT: 553 Mailbox name not allowed")),
    ("RCPT", 552, "Mailbox full", Bounced("RCPT: 552 Mailbox full", hard=False)),
    ("RCPT", 550, "5.2.2 Over quota", Bounced("RCPT: 550 5.2.2 Over quota", hard=False)),
    ("DATA", 552, "5.2.2 Mailbox full", Bounced("DATA: 552 5.2.2 Mailbox full", hard=False)),
    ("DATA", 550, "5.1.1 User unknown", Bounced("DATA: 550 5.1.1 User unknown", hard=True)),
    ("DATA", 552, "5.3.4 Message too big", Failed("DATA: 552 5.3.4 Message too big")),
    ("DATA", 554, "5.7.1 Rejected as spam", Failed("DATA: 554 5.7.1 Rejected as spam")),
    ("DATA", 550, "5.7.26 DMARC policy", Failed("DATA: 550 5.7.26 DMARC policy")),
    ("DATA", 554, "Transaction failed", Failed("DATA: 554 Transaction failed")),
    ("MAIL", 250, "OK", Deferred("MAIL: unexpected reply 250 OK", failover=True)),
    ("DATA", 354, "go ahead", Deferred("DATA: unexpected reply 354 go ahead", failover=True)),
]


@pytest.mark.parametrize(("stage", "code", "text", "expected"), REPLIES)
def test_reply_table(stage, code, text, expected) -> None:
    assert classify_reply(stage, code, text) == expected


def test_multiline_reply_is_joined() -> None:
    outcome = classify_reply("DATA", 554, "5.7.1 Message rejected\n5.7.1 see https://x.example")
    assert outcome == Failed("DATA: 554 5.7.1 Message rejected 5.7.1 see https://x.example")


def make(**overrides) -> SmtpProvider:
    settings = {"security": "starttls", "local_hostname": "client.test"}
    settings.update(overrides)
    return SmtpProvider("mail", "smtp.example.net", 587, **settings)


def test_is_a_provider_with_stated_limits() -> None:
    provider = make(max_batch=50)
    assert isinstance(provider, Provider)
    assert provider.max_batch == 50 and SmtpProvider.max_batch == 100
    assert provider.max_recipients == SmtpProvider.max_recipients == 100
    assert provider.max_message_bytes == 10_240_000


def test_repr_never_shows_the_password() -> None:
    provider = make(username="u", password=SecretStr("hunter2-secret"))
    assert "hunter2" not in repr(provider) and "hunter2" not in str(vars(provider))
    assert "smtp.example.net" in repr(provider)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"security": "ssl"}, "security"),
        ({"username": "u"}, "together"),
        ({"password": SecretStr("p")}, "together"),
        ({"max_messages_per_connection": 0}, "at least 1"),
        ({"security": "none", "username": "u", "password": SecretStr("p")}, "in clear"),
        ({"ca_file": "/nonexistent/ca.pem"}, "CA file"),
    ],
)
def test_bad_settings_are_refused(overrides, message) -> None:
    with pytest.raises(errors.ProviderConfigError, match=message):
        make(**overrides)


def test_clear_password_is_allowed_on_loopback() -> None:
    provider = SmtpProvider("local", "127.0.0.1", 25, security="none", username="u",
                            password=SecretStr("p"))
    assert provider.name == "local"


def test_port_out_of_range() -> None:
    with pytest.raises(errors.ProviderConfigError, match="port"):
        SmtpProvider("x", "smtp.example.net", 70000)


def test_empty_batch_opens_nothing() -> None:
    assert make().send_batch([]) == []
