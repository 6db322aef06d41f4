"""Hand-added messages, attachments and unsubscribe links, checked without a database."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from tidings.channels.attachments import MAX_TOTAL_BYTES, AttachmentIn, checked
from tidings.channels.catalog import Catalog
from tidings.channels.manual import ManualMessage, Refused, prepare
from tidings.channels.unsubscribe import UnsubscribeLinks
from tidings.domain.states import State
from tidings.project.model import ChannelConfig, CommunicationChannelConfig, ProviderConfig

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
PDF = base64.b64encode(b"%PDF-1.4\n%fake\n").decode()


def catalog() -> Catalog:
    providers = {
        "smtp-a": ProviderConfig(name="smtp-a", channel="email", type="smtp",
                                 from_address="Shop <shop@shop.example>",
                                 settings={"host": "127.0.0.1"}),
        "smtp-b": ProviderConfig(name="smtp-b", channel="email", type="smtp",
                                 settings={"host": "127.0.0.1"}),
        "sms": ProviderConfig(name="sms", channel="sms", type="capture"),
    }
    return Catalog(
        1, {"email": ChannelConfig(name="email", code=1, kind="email"),
            "sms": ChannelConfig(name="sms", code=2, kind="sms")},
        providers,
        {"mail": CommunicationChannelConfig(name="mail", channel="email",
                                            providers=["smtp-a", "smtp-b"], entity="order"),
         "sms": CommunicationChannelConfig(name="sms", channel="sms", providers=["sms"])})


def message(**overrides: Any) -> ManualMessage:
    values: dict[str, Any] = {"to": ["ada@example.com"], "subject": "Hello",
                              "body_html": "<p>Hello <b>Ada</b></p>",
                              "communication_channel": "mail"}
    values.update(overrides)
    return ManualMessage.model_validate(values)


def errors_of(request: ManualMessage) -> list[tuple[str, str]]:
    with pytest.raises(Refused) as caught:
        prepare(request, "acme", catalog(), NOW)
    return caught.value.errors


def test_a_full_message() -> None:
    start = NOW + timedelta(days=1)
    got = prepare(message(cc=["c@example.com"], bcc=["b@example.com"], start_at=start,
                          end_at=start + timedelta(days=2), interval_min=time(8),
                          interval_max=time(18), list_unsubscribe=True,
                          properties={"order": "SO-1"},
                          attachments=[{"filename": "invoice.pdf",
                                        "content_type": "application/pdf", "content": PDF}]),
                  "acme", catalog(), NOW, key="k1")
    m = got.message
    assert (m.provider, m.channel, m.state) == ("smtp-a", "email", State.QUEUED)
    assert m.due_at == start and m.expires_at == start + timedelta(days=2)
    assert m.sender == "Shop <shop@shop.example>" and m.message_id_header.endswith(
        "@shop.example>")
    assert m.body_text.strip() == "Hello Ada" and m.dedupe_key == "manual|k1"
    assert got.window == ("08:00:00", "18:00:00") and got.communication_channel == "mail"
    assert got.payload["attachments"][0]["filename"] == "invoice.pdf"
    assert got.payload["list_unsubscribe"] is True
    assert got.payload["properties"] == {"order": "SO-1"} and got.payload["entity"] == "order"


def test_a_provider_picks_its_communication_channel() -> None:
    got = prepare(message(communication_channel=None, provider="smtp-b"), "acme", catalog(), NOW)
    assert got.message.provider == "smtp-b" and got.communication_channel == "mail"


@pytest.mark.parametrize(("overrides", "pointer"), [
    ({"to": ["not an address"]}, "/to/0"),
    ({"cc": ["x@y.example\r\nBcc: evil@x.example"]}, "/cc/0"),
    ({"body_html": None}, "/body_text"),
    ({"start_at": datetime(2026, 3, 3, 8, 0)}, "/start_at"),
    ({"end_at": NOW - timedelta(hours=1)}, "/end_at"),
    ({"interval_min": time(8)}, "/interval_max"),
    ({"payload": {"attachments": []}}, "/payload/attachments"),
    ({"attachments": [{"filename": "x.exe", "content_type": "application/x-msdownload",
                       "content": PDF}]}, "/attachments/0"),
])
def test_refused_with_a_pointer(overrides: dict[str, Any], pointer: str) -> None:
    assert pointer in [p for p, _ in errors_of(message(**overrides))]


def test_unknown_names_are_refused() -> None:
    assert errors_of(message(communication_channel="nope"))[0][0] == "/communication_channel"
    assert errors_of(message(provider="sms"))[0][0] == "/provider"   # not in "mail"


def test_sms_takes_text_only() -> None:
    errs = errors_of(message(communication_channel="sms", to=["+4930123456"], cc=["a@b.c"],
                             body_html="<p>x</p>"))
    assert {"/cc", "/body_text"} <= {p for p, _ in errs}


def test_attachment_checks() -> None:
    def one(name: str, kind: str, data: bytes) -> list[str]:
        item = AttachmentIn(filename=name, content_type=kind,
                            content=base64.b64encode(data).decode())
        return [p.detail for p in checked([item])[1]]

    assert one("a.pdf", "application/pdf", b"%PDF-1.7 ok") == []
    assert "not application/pdf" in one("a.pdf", "application/pdf", b"MZ\x90\x00")[0]
    assert "not allowed" in one("a.zip", "application/zip", b"PK\x03\x04")[0]
    assert "path separator" in one("../a.txt", "text/plain", b"hi")[0]
    assert "UTF-8" in one("a.txt", "text/plain", b"\xff\xfe")[0]
    bad = AttachmentIn(filename="a.txt", content_type="text/plain", content="***")
    assert "not base64" in checked([bad])[1][0].detail
    big = AttachmentIn(filename="a.txt", content_type="text/plain",
                       content=base64.b64encode(b"a" * (MAX_TOTAL_BYTES + 1)).decode())
    assert "the limit is" in checked([big])[1][0].detail


def test_unsubscribe_token_round_trip_and_forgery() -> None:
    links = UnsubscribeLinks("s" * 40, "https://mail.shop.example/")
    url = links.url("acme", 42)
    assert url.startswith("https://mail.shop.example/u/")
    token = url.rsplit("/", 1)[1]
    assert links.read(token) == ("acme", 42)
    assert links.read(token[:-2] + "xx") is None
    assert UnsubscribeLinks("t" * 40, "https://x").read(token) is None
    headers = dict(links.headers("acme", 42))
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"] == f"<{url}>"
