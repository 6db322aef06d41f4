"""Email bytes: golden files, a parse-back of every part, and a property test."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import itertools
import json
import os
import timeit
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.render import mime

FIXTURES = Path(__file__).parents[2] / "fixtures" / "render" / "mime"
CASES = sorted(p.stem for p in FIXTURES.glob("*.json"))
REGENERATE = os.environ.get("TIDINGS_REGEN_GOLDEN") == "1"


def load(name: str) -> mime.OutgoingEmail:
    raw: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
    attachments = [mime.Attachment(a["filename"], a["content_type"],
                                   base64.b64decode(a["data_base64"]), a.get("inline_cid"))
                   for a in raw.pop("attachments", [])]
    raw["headers"] = [tuple(h) for h in raw.get("headers", [])]
    raw["date"] = dt.datetime.fromisoformat(raw["date"])
    return mime.OutgoingEmail(**raw, attachments=attachments)


def counting_boundaries() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"=_tidings_b{next(counter)}"


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def unix(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str) -> None:
    built = mime.build_email(load(name), make_boundary=counting_boundaries())
    expected = FIXTURES / "expected" / f"{name}.eml"
    if REGENERATE:
        expected.write_bytes(built)
    assert built == expected.read_bytes()


@pytest.mark.parametrize("name", CASES)
def test_wire_form(name: str) -> None:
    built = mime.build_email(load(name))
    assert b"\n" not in built.replace(b"\r\n", b"")
    assert b"\r" not in built.replace(b"\r\n", b"")
    assert all(len(line) <= 78 for line in built.split(b"\r\n")), "a line passes 78 chars"
    assert built.isascii()


@pytest.mark.parametrize("name", CASES)
def test_parses_back_to_its_input(name: str) -> None:
    msg = load(name)
    parsed = parse(mime.build_email(msg))
    assert parsed["Subject"] == msg.subject
    assert parsed["Message-ID"].strip("<>") == msg.message_id.strip("<>")
    assert parsed["From"].addresses[0].addr_spec in msg.sender
    assert [a.addr_spec for a in parsed["To"].addresses] == [
        v.rsplit("<", 1)[-1].rstrip(">") for v in msg.to]
    assert "Bcc" not in parsed
    assert parsed["Date"].datetime == msg.date
    for header, value in msg.headers:
        assert parsed[header] == value
    plain = parsed.get_body(("plain",))
    assert plain is not None and plain.get_content_charset() == "utf-8"
    assert unix(plain.get_content()) == unix(msg.text)
    if msg.html is not None:
        html = parsed.get_body(("html",))
        assert html is not None and unix(html.get_content()) == unix(msg.html)
    else:
        assert parsed.get_body(("html",)) is None
    found = {part.get_filename(): part for part in parsed.walk() if part.get_filename()}
    for item in msg.attachments:
        part = found[item.filename]
        assert part.get_content_type() == item.content_type
        assert part.get_payload(decode=True) == item.data
        if item.inline_cid and msg.html is not None:
            assert part["Content-ID"] == f"<{item.inline_cid}>"
            assert part.get_content_disposition() == "inline"


def test_structure_nesting() -> None:
    parsed = parse(mime.build_email(load("attachments")))
    types = [p.get_content_type() for p in parsed.walk()]
    assert types == ["multipart/mixed", "multipart/alternative", "text/plain",
                     "multipart/related", "text/html", "image/png", "application/pdf"]
    assert parse(mime.build_email(load("text_only"))).get_content_type() == "text/plain"
    assert [p.get_content_type() for p in parse(
        mime.build_email(load("text_with_attachment"))).walk()] == [
        "multipart/mixed", "text/plain", "text/plain"]


def test_boundary_that_occurs_in_a_part_is_replaced() -> None:
    msg = load("alternative")
    proposals = iter(["Thank you", "=_tidings_b2"])  # "Thank you" is in both bodies
    built = mime.build_email(msg, make_boundary=lambda: next(proposals))
    assert b'boundary="=_tidings_b2"' in built
    assert b'boundary="Thank you"' not in built


def test_random_boundaries_differ() -> None:
    assert mime.random_boundary() != mime.random_boundary()


def test_naive_date_is_refused() -> None:
    msg = load("text_only")
    msg.date = dt.datetime(2026, 3, 27, 9, 30)
    with pytest.raises(ValueError, match="time zone"):
        mime.build_email(msg)


@pytest.mark.parametrize("header", ["Bcc", "To", "content-type", "MIME-Version"])
def test_extra_headers_cannot_replace_built_ones(header: str) -> None:
    msg = load("text_only")
    msg.headers = [(header, "x@example.com")]
    with pytest.raises(ValueError, match="would replace"):
        mime.build_email(msg)


def test_bad_attachment_type_is_refused() -> None:
    msg = load("text_only")
    msg.attachments = [mime.Attachment("a.txt", "text/plain\r\nX-Evil: 1", b"")]
    with pytest.raises(ValueError):
        mime.build_email(msg)


def test_faster_than_the_stdlib() -> None:
    msg = load("alternative")
    ours = min(timeit.repeat(lambda: mime.build_email(msg), number=50, repeat=3)) / 50

    def stdlib() -> bytes:
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = msg.sender, ", ".join(msg.to), msg.subject
        m.set_content(msg.text)
        m.add_alternative(msg.html or "", subtype="html")
        return m.as_bytes()

    theirs = min(timeit.repeat(stdlib, number=50, repeat=3)) / 50
    assert ours * 5 < theirs


unicode_text = st.text(st.characters(codec="utf-8"), max_size=400)


@settings(max_examples=150, deadline=None)
@given(subject=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=300),
       text=unicode_text, html=st.none() | unicode_text,
       name=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=60))
def test_any_unicode_round_trips(subject: str, text: str, html: str | None, name: str) -> None:
    subject = " ".join(subject.split())  # subjects arrive collapsed to one line
    msg = mime.OutgoingEmail(
        sender="shop@example.com", to=["anna@example.org"], subject=subject,
        message_id="<p@tidings.example>", date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        text=text, html=html, headers=[("X-Tidings-Note", subject)])
    if name.strip():
        msg.to = [f"{' '.join(name.split())} <anna@example.org>".replace('"', "'")]
    try:
        built = mime.build_email(msg)
    except ValueError:
        # Display names that do not round-trip (e.g. with '<', ',') are refused, never mangled.
        assert name.strip()
        return
    parsed = parse(built)
    assert str(parsed["Subject"]) == subject
    assert str(parsed["X-Tidings-Note"]) == subject
    body = parsed.get_body(("plain",))
    assert body is not None and unix(body.get_content()) == unix(text)
    if html is not None:
        html_part = parsed.get_body(("html",))
        assert html_part is not None and unix(html_part.get_content()) == unix(html)
    assert all(len(line) <= 78 for line in built.split(b"\r\n"))
