"""Header injection is refused everywhere a value reaches the wire."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils

import pytest

from tidings.render import headers, mime

BASE = mime.OutgoingEmail(
    sender="Shop <shop@example.com>", to=["anna@example.org"], subject="Hello",
    message_id="<m1@tidings.example>", date=dt.datetime(2026, 3, 27, tzinfo=dt.UTC),
    text="body")

EVIL_VALUES = [
    ("plain CRLF", "Hi\r\nBcc: x@evil.example"),
    ("bare LF", "Hi\nBcc: x@evil.example"),
    ("bare CR", "Hi\rBcc: x@evil.example"),
    ("NUL", "Hi\x00there"),
    ("q-encoded CRLF", "=?utf-8?q?a=0D=0ABcc:x@evil.example?="),
    ("q-encoded LF, upper case", "=?UTF-8?Q?a=0ABcc:x@evil.example?="),
    ("b-encoded CRLF", "=?utf-8?b?YQ0KQmNjOiB4QGV2aWwuZXhhbXBsZQ==?="),
    ("b-encoded NUL", "=?utf-8?b?YQBi?="),
    ("encoded word among text", "Your order =?iso-8859-1?q?=0D=0A?= shipped"),
    ("utf-16 word", "=?utf-16?b?AA0ACg==?="),
]


@pytest.mark.parametrize(("case", "value"), EVIL_VALUES)
def test_check_header_value_refuses(case: str, value: str) -> None:
    with pytest.raises(headers.HeaderInjection, match="Subject"):
        headers.check_header_value("Subject", value)


@pytest.mark.parametrize(("case", "value"), EVIL_VALUES)
def test_subject_injection_is_refused(case: str, value: str) -> None:
    with pytest.raises(headers.HeaderInjection) as caught:
        mime.build_email(dataclasses.replace(BASE, subject=value))
    assert caught.value.header == "Subject"


@pytest.mark.parametrize(("case", "value"), EVIL_VALUES)
def test_extra_header_injection_is_refused(case: str, value: str) -> None:
    msg = dataclasses.replace(BASE, headers=[("List-Unsubscribe", value)])
    with pytest.raises(headers.HeaderInjection) as caught:
        mime.build_email(msg)
    assert caught.value.header == "List-Unsubscribe"


@pytest.mark.parametrize("name", ["X-Evil\r\nBcc", "X Evil", "X:Evil", "", "X-Ünï"])
def test_bad_header_names_are_refused(name: str) -> None:
    with pytest.raises(headers.HeaderInjection):
        mime.build_email(dataclasses.replace(BASE, headers=[(name, "v")]))


@pytest.mark.parametrize(("field", "value"), [
    ("sender", "Shop\r\nBcc: x@evil.example <shop@example.com>"),
    ("sender", "=?utf-8?q?Shop=0D=0ABcc:_x@evil.example?= <shop@example.com>"),
    ("sender", "=?utf-8?b?U2hvcA0KQmNjOiB4QGV2aWw=?= <shop@example.com>"),
    ("reply_to", "help@example.com\nBcc: x@evil.example"),
    ("reply_to", "Help\x00 <help@example.com>"),
    ("to", "anna@example.org\r\nBcc: x@evil.example"),
    ("to", "=?utf-8?q?Anna=0A?= <anna@example.org>"),
    ("cc", "ops@example.com\rX: y"),
    ("bcc", "audit@example.com\nX: y"),
])
def test_address_injection_is_refused(field: str, value: str) -> None:
    changed = {field: [value] if field in {"to", "cc", "bcc"} else value}
    with pytest.raises(headers.HeaderInjection):
        mime.build_email(dataclasses.replace(BASE, **changed))  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [
    "a@b.example, c@d.example",               # two mailboxes in one entry
    "alice@example.org)<bob@example.org>",    # CVE-2023-27043 shape
    "no-at-sign",
    "Anna <anna@example.org> trailing",
    "anna@exa mple.org",
    "<>",
    "jörg@example.org",                        # non-ASCII local part needs SMTPUTF8
])
def test_malformed_addresses_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        headers.parse_address(value, "To")


@pytest.mark.parametrize(("value", "name", "addr"), [
    ("anna@example.org", "", "anna@example.org"),
    ("  anna.smith+orders@mail.example.org ", "", "anna.smith+orders@mail.example.org"),
    ("Anna Smith <anna@example.org>", "Anna Smith", "anna@example.org"),
    ('"Smith, Anna" <anna@example.org>', "Smith, Anna", "anna@example.org"),
    ("Jürgen Müller <j@example.de>", "Jürgen Müller", "j@example.de"),
])
def test_good_addresses(value: str, name: str, addr: str) -> None:
    assert headers.parse_address(value) == headers.Address(name, addr)
    assert email.utils.parseaddr(value) == (name, addr)


def test_encoded_words_never_split_a_character_and_fit() -> None:
    text = "€" * 100 + "x" + "日本" * 30
    words = headers.encoded_words(text, 60)
    assert all(len(w) <= 75 for w in words) and len(words[0]) <= 60
    from email.header import decode_header, make_header
    assert str(make_header(decode_header(" ".join(words)))) == text


def test_text_that_looks_encoded_is_encoded() -> None:
    line = headers.header_line("Subject", "literally =?utf-8?q?hi?= here")
    assert "=?utf-8?q?hi?=" not in line
