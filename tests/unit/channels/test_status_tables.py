"""Provider status tables: vendor responses -> the action the dispatcher takes."""

from __future__ import annotations

import pytest

from tidings.channels.statuses import (
    HTTP_DEFAULTS,
    StatusRow,
    StatusTable,
    candidate_keys,
    code_of,
    seeds_for,
)
from tidings.channels.testing import action_of, assert_status_table
from tidings.domain.outcomes import Bounced, Deferred, Failed, Outcome, Sent
from tidings.providers.smtp import classify_reply

# (stage, reply code, reply text) as an SMTP server answers -> the action after the table
SMTP_CASES = [
    ("DATA", 250, "2.0.0 Ok: queued as 4711", "sent"),
    ("DATA", 250, "Ok", "sent"),
    ("RCPT", 550, "5.1.1 <gone@example.org>: Recipient address rejected", "bounce"),
    ("RCPT", 550, "no such user", "bounce"),
    ("RCPT", 551, "user not local", "bounce"),
    ("RCPT", 553, "mailbox name not allowed", "bounce"),
    ("RCPT", 552, "5.2.2 mailbox full", "bounce"),
    ("RCPT", 450, "4.2.1 mailbox busy", "retry"),
    ("RCPT", 451, "4.7.1 greylisted, try again", "retry"),
    ("RCPT", 452, "4.2.2 over quota for now", "retry"),
    ("RCPT", 421, "4.3.0 service shutting down", "failover"),
    ("RCPT", 421, "closing", "failover"),
    ("RCPT", 550, "5.7.1 Relay access denied", "failover"),      # provider's policy reading
    ("RCPT", 535, "5.7.8 authentication failed", "failover"),
    ("MAIL", 550, "5.1.8 sender domain refused", "fail"),        # stage decides: sender, not rcpt
    ("MAIL", 552, "message size exceeds limit", "fail"),
    ("DATA", 554, "5.7.1 message refused as spam", "fail"),      # content refused: never bounce
    ("DATA", 550, "content rejected", "fail"),
    ("DATA", 451, "4.3.0 local error", "retry"),
]


def test_smtp_replies_through_the_seeded_table() -> None:
    assert_status_table("smtp", [(classify_reply(stage, code, text), action)  # type: ignore[arg-type]
                                 for stage, code, text, action in SMTP_CASES])


def test_capture_through_the_seeded_table() -> None:
    assert_status_table("capture", [(Sent("250 captured"), "sent"),
                                    (Bounced("bounce", code="bounce"), "bounce"),
                                    (Sent("x", code="delivered"), "delivered"),
                                    (Sent("x", code="dropped"), "fail")])


HTTP_CASES: list[tuple[Outcome, str]] = [
    (Sent("HTTP 200", code="200"), "sent"),
    (Sent("HTTP 202", code="202"), "sent"),
    (Failed("HTTP 400", code="400"), "fail"),
    (Deferred("HTTP 401", failover=True, code="401"), "failover"),
    (Failed("HTTP 403", code="403"), "failover"),      # the table overrides the vendor reading
    (Failed("HTTP 404", code="404"), "fail"),
    (Failed("HTTP 405", code="405"), "fail"),
    (Failed("HTTP 413", code="413"), "fail"),
    (Failed("HTTP 415", code="415"), "fail"),
    (Deferred("HTTP 429", retry_after_seconds=17.0, code="429"), "retry"),
    (Deferred("HTTP 500", failover=True, code="500"), "failover"),
    (Deferred("HTTP 503", failover=True, code="503"), "failover"),
    (Deferred("timeout", failover=True, code="timeout"), "failover"),
    (Bounced("bounce", code="bounce"), "bounce"),
    (Sent("delivered", code="delivered"), "delivered"),
    (Sent("dropped", code="dropped"), "fail"),
]


def test_http_vendor_defaults() -> None:
    assert_status_table("twilio", HTTP_CASES)


def test_webpush_gone_subscription_bounces() -> None:
    assert_status_table("webpush", [(Failed("HTTP 410", code="410"), "bounce"),
                                    (Failed("HTTP 404", code="404"), "bounce"),
                                    (Deferred("HTTP 503", failover=True, code="503"), "failover")])


def test_the_issue_seed_list_is_complete() -> None:
    codes = {row.code for row in HTTP_DEFAULTS}
    assert {"200", "202", "400", "401", "403", "404", "405", "413", "415", "429", "500", "503",
            "bounce", "delivered", "dropped"} <= codes
    assert {"250", "421", "450", "550"} <= {row.code for row in seeds_for("smtp")}


def test_operator_rows_override_and_the_check_can_fail() -> None:
    rows = [StatusRow("250", "fail", "sandbox: not delivered")]
    assert_status_table("capture", [(Sent("250 captured"), "fail")], rows=rows)
    with pytest.raises(AssertionError, match="gave sent, expected fail"):
        assert_status_table("capture", [(Sent("250 captured"), "fail")])
    with pytest.raises(AssertionError, match="no cases"):
        assert_status_table("capture", [])


def test_retry_after_survives_reinterpretation() -> None:
    table = StatusTable({"p": [StatusRow("503", "retry", "busy")]})
    got = table.apply("p", Deferred("HTTP 503", retry_after_seconds=9.0, failover=True,
                                    code="503"))
    assert isinstance(got, Deferred) and got.retry_after_seconds == 9.0 and not got.failover
    assert "busy" in got.reason and got.code == "503"


def test_no_row_keeps_the_provider_reading() -> None:
    table = StatusTable({"p": []})
    outcome = Failed("HTTP 418", code="418")
    assert table.apply("p", outcome) is outcome
    assert table.apply("other", outcome) is outcome


def test_soft_bounce_stays_soft_and_fail_becomes_hard_bounce() -> None:
    table = StatusTable({"p": [StatusRow("5.2.2", "bounce"), StatusRow("999", "bounce")]})
    soft = table.apply("p", Bounced("RCPT: 552 5.2.2 full", hard=False))
    assert isinstance(soft, Bounced) and not soft.hard
    hard = table.apply("p", Failed("x", code="999"))
    assert isinstance(hard, Bounced) and hard.hard


@pytest.mark.parametrize(("code", "keys"), [
    ("429", ["429", "4xx"]),
    ("5.7.1", ["5.7.1", "5.7.x", "5.x.x"]),
    ("bounce", ["bounce"]),
])
def test_lookup_goes_from_specific_to_class(code: str, keys: list[str]) -> None:
    assert list(candidate_keys(code)) == keys


def test_class_rows_apply_when_no_exact_row() -> None:
    table = StatusTable({"p": [StatusRow("5xx", "failover"), StatusRow("503", "retry")]})
    assert action_of(table.apply("p", Failed("x", code="502"))) == "failover"
    assert action_of(table.apply("p", Failed("x", code="503"))) == "retry"


@pytest.mark.parametrize(("outcome", "code"), [
    (Sent("250 2.0.0 Ok"), "2.0.0"),
    (Sent("250 captured"), "250"),
    (Bounced("RCPT: 550 5.1.1 no"), "5.1.1"),
    (Deferred("RCPT: 421 closing", failover=True), "421"),
    (Deferred("DATA: 421 4.3.0 bye", failover=True), "4.3.0"),
    (Failed("MAIL: 550 5.1.8 bad sender"), ""),
    (Failed("DATA: 554 5.7.1 spam"), ""),
    (Deferred("connect: ConnectionRefusedError", failover=True), ""),
    (Failed("anything", code="413"), "413"),
])
def test_code_of(outcome: Sent | Deferred | Bounced | Failed, code: str) -> None:
    assert code_of(outcome) == code


# Each HTTP vendor's own reading of an answer, then its seeded status table: the action the
# dispatcher takes for (vendor status) -> (sent | retry | failover | fail | bounce).
VENDOR_HTTP = [(200, "sent"), (201, "sent"), (202, "sent"), (400, "fail"), (401, "failover"),
               (403, "failover"), (404, "fail"), (405, "fail"), (413, "fail"), (415, "fail"),
               (429, "retry"), (500, "failover"), (503, "failover")]


@pytest.mark.parametrize("provider_type", ["ses", "twilio", "http_sms", "webpush", "print_api"])
def test_vendor_answers_through_their_seeded_tables(provider_type: str) -> None:
    from tidings.providers import http_outcome
    cases: list[tuple[Outcome, str]] = [
        (http_outcome.from_status(status, f"HTTP {status}", retry_after=3.0 if status == 429
                                  else None), action) for status, action in VENDOR_HTTP]
    if provider_type == "webpush":  # a push subscription that is gone bounces the recipient
        cases = [c for c in cases if c[0].code != "404"] + [
            (http_outcome.from_status(410, "HTTP 410"), "bounce"),
            (http_outcome.from_status(404, "HTTP 404"), "bounce")]
    assert_status_table(provider_type, cases)
