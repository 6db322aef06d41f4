"""Links tracked, a pixel added and a return path set, as the provider's switches say."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from tidings.feedback.outgoing import OutgoingFeedback, is_trackable
from tidings.feedback.tokens import Purpose, TokenBox
from tidings.outbox.messages import NewMessage

BOX = TokenBox("x" * 40)
MID = "<abc@acme.example>"
HTML = ('<html><body><p><a href="https://shop.example/a?x=1&amp;y=2">account</a> '
        "<a class='b' href='http://shop.example/b'>b</a> "
        '<a href="mailto:help@acme.example">mail</a> <a href="#top">top</a> '
        '<a data-tidings-track="off" href="https://shop.example/private">p</a>'
        "</p></BODY></html>")


@dataclass(frozen=True)
class Switches:
    open_tracking: bool = True
    click_tracking: bool = True


def message(**overrides: object) -> NewMessage:
    base = NewMessage(dedupe_key="k", channel="email", provider="capture",
                      recipient="ada@example.com", to=["ada@example.com"],
                      sender="orders@acme.example", subject="Hi", body_text="Hi",
                      message_id_header=MID, due_at=datetime(2026, 1, 5, tzinfo=UTC),
                      body_html=HTML)
    return replace(base, **overrides)  # type: ignore[arg-type]


def outgoing(domain: str | None = None) -> OutgoingFeedback:
    return OutgoingFeedback(BOX, "https://t.acme.example/", ["email"], domain)


def test_links_become_redirects_to_their_own_target() -> None:
    body = outgoing().prepare(message(), Switches(open_tracking=False)).body_html or ""
    hrefs = re.findall(r"""href=["']([^"']+)["']""", body)
    tracked = [h for h in hrefs if h.startswith("https://t.acme.example/t/c/")]
    assert len(tracked) == 2
    targets = [BOX.open(Purpose.CLICK, h.rsplit("/", 1)[1]) for h in tracked]
    assert [(t.url, t.message_id_header) for t in targets if t] == [
        ("https://shop.example/a?x=1&y=2", MID), ("http://shop.example/b", MID)]
    for kept in ("mailto:help@acme.example", "#top", "https://shop.example/private"):
        assert kept in hrefs
    assert "<img" not in body


def test_pixel_goes_before_the_last_body_end() -> None:
    body = outgoing().prepare(message(), Switches(click_tracking=False)).body_html or ""
    pixel = re.search(r'<img src="https://t.acme.example/t/o/([^"]+)"', body)
    assert pixel and BOX.open(Purpose.OPEN, pixel.group(1)) is not None
    assert body.index("<img") < body.index("</BODY>")
    assert "shop.example/a?x=1&amp;y=2" in body  # links untouched


def test_switched_off_non_email_and_text_only_are_unchanged() -> None:
    plain = message()
    assert outgoing().prepare(plain, Switches(False, False)) is plain
    sms = message(channel="sms")
    assert outgoing("b.example").prepare(sms, Switches()) is sms
    text_only = outgoing().prepare(message(body_html=None), Switches())
    assert text_only.body_html is None


def test_return_path_header_when_configured() -> None:
    prepared = outgoing("bounces.acme.example").prepare(message(), Switches(False, False))
    assert prepared.headers == [("Return-Path", "<bounces@bounces.acme.example>")]


def test_without_a_body_end_the_pixel_is_appended() -> None:
    body = outgoing().add_pixel("<p>hi</p>", MID)
    assert body.startswith("<p>hi</p><img ")


def test_trackable_urls() -> None:
    assert is_trackable("https://a.example/x") and is_trackable(" HTTP://a.example ")
    for url in ("javascript:alert(1)", "mailto:a@b", "//a.example", "https://", "ftp://a.b",
                "http://[::1"):
        assert not is_trackable(url), url
