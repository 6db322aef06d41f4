"""Channel builders: (claimed message + payload -> envelope, or the reason it can never go)."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pypdf import PdfReader

from tidings.channels_build import builders, letter, push, sms
from tidings.channels_build.envelopes import LetterEnvelope, PushEnvelope
from tidings.outbox.messages import Claimed
from tidings.providers import errors


def claimed(**overrides: Any) -> Claimed:
    base = Claimed(id=5, tenant="acme", provider="p", sender="Shop", to=["+49 30 1234567"],
                   cc=[], bcc=[], subject="Shipped", body_text="Order SO-1 has shipped.\n",
                   body_html=None, headers=[], message_id_header="<m5@shop.example>",
                   attempts=1, created_at=datetime(2026, 1, 5, 9, tzinfo=UTC), expires_at=None)
    return replace(base, **overrides)


# -- SMS ------------------------------------------------------------------------

SMS = sms.SmsOptions(default_region="DE", max_segments=2)


def test_sms_from_the_to_address_in_the_default_region() -> None:
    envelope = sms.build_sms(claimed(), {}, SMS)
    assert envelope.recipients == ["+49301234567"]
    assert envelope.data == b"Order SO-1 has shipped."
    assert (envelope.key, envelope.message_id, envelope.sender) == (5, "<m5@shop.example>",
                                                                    "Shop")


def test_sms_payload_phone_and_region_win() -> None:
    envelope = sms.build_sms(claimed(), {"phone": "020 7946 0958", "region": "GB"},
                             replace(SMS, sender="+15005550006"))
    assert envelope.recipients == ["+442079460958"] and envelope.sender == "+15005550006"


@pytest.mark.parametrize(("message", "payload", "error"), [
    (claimed(to=[]), {}, ValueError),
    (claimed(), {"phone": "12"}, errors.InvalidPhoneNumber),
    (claimed(), {"phone": "030 1234567", "region": "XX"}, errors.InvalidPhoneNumber),
    (claimed(body_text="  \n"), {}, ValueError),
    (claimed(body_text="x" * 307), {}, errors.SmsTooLong),
    (claimed(body_text="€" * 154), {}, errors.SmsTooLong),  # escape pairs: 308 septets
    (claimed(body_text="中" * 135), {}, errors.SmsTooLong),  # UCS-2: 3 segments of 67
])
def test_sms_that_can_never_go(message: Claimed, payload: dict[str, Any],
                               error: type[Exception]) -> None:
    with pytest.raises(error):
        sms.build_sms(message, payload, SMS)


def test_sms_at_the_limit_goes() -> None:
    assert sms.build_sms(claimed(body_text="x" * 306), {}, SMS).data == b"x" * 306


# -- push -----------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


POINT = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
    serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
SUBSCRIPTION = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc",
                "keys": {"p256dh": b64(POINT), "auth": b64(b"0123456789abcdef")}}
PUSH = push.PushOptions()


def test_push_notification_document() -> None:
    envelope = push.build_push(claimed(), {"subscription": SUBSCRIPTION, "url": "/o/SO-1",
                                           "data": {"order": "SO-1"}, "tag": "order"}, PUSH)
    assert isinstance(envelope, PushEnvelope)
    assert orjson.loads(envelope.data) == {
        "title": "Shipped", "body": "Order SO-1 has shipped.", "message_id": "<m5@shop.example>",
        "url": "/o/SO-1", "tag": "order", "data": {"order": "SO-1"}}
    assert envelope.recipients == [SUBSCRIPTION["endpoint"]]
    assert (envelope.ttl_seconds, envelope.urgency, envelope.topic) == (86_400, "normal", None)
    assert envelope.subscription.as_info() == SUBSCRIPTION


def keys(**changes: str) -> dict[str, Any]:
    return {**SUBSCRIPTION, "keys": {**SUBSCRIPTION["keys"], **changes}}  # type: ignore[dict-item]


@pytest.mark.parametrize(("payload", "options", "reason"), [
    ({}, PUSH, "no push subscription"),
    ({"subscription": {"endpoint": "https://x"}}, PUSH, "no keys"),
    ({"subscription": {**SUBSCRIPTION, "endpoint": "http://127.0.0.1:9/p"}}, PUSH, "https"),
    ({"subscription": {**SUBSCRIPTION, "endpoint": "https://u:p@push.example/p"}}, PUSH,
     "credentials"),
    ({"subscription": {**SUBSCRIPTION, "endpoint": "file:///etc/passwd"}},
     replace(PUSH, allow_insecure_endpoints=True), "http"),
    ({"subscription": SUBSCRIPTION}, replace(PUSH, allowed_hosts=(".push.apple.com",)),
     "not an allowed push service"),
    ({"subscription": keys(p256dh=b64(POINT[:33]))}, PUSH, "P-256"),
    ({"subscription": keys(auth=b64(b"short"))}, PUSH, "16 bytes"),
    ({"subscription": keys(auth="***")}, PUSH, "base64url"),
    ({"subscription": SUBSCRIPTION, "data": "x" * 4000}, PUSH, "3993"),
    ({"subscription": SUBSCRIPTION, "ttl_seconds": -1}, PUSH, "ttl_seconds"),
    ({"subscription": SUBSCRIPTION, "urgency": "urgent"}, PUSH, "urgency"),
    ({"subscription": SUBSCRIPTION, "topic": "has spaces"}, PUSH, "topic"),
])
def test_push_that_can_never_go(payload: dict[str, Any], options: push.PushOptions,
                                reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        push.build_push(claimed(), payload, options)


def test_push_allowed_hosts_match_suffixes() -> None:
    options = replace(PUSH, allowed_hosts=("fcm.googleapis.com", ".push.services.mozilla.com"))
    push.build_push(claimed(), {"subscription": SUBSCRIPTION}, options)
    mozilla = {**SUBSCRIPTION, "endpoint": "https://updates.push.services.mozilla.com/wpush/v2/x"}
    push.build_push(claimed(), {"subscription": mozilla}, options)


# -- letters --------------------------------------------------------------------

ADDRESS = {"name": "Erika Müller", "line1": "Hauptstraße 12", "city": "Berlin",
           "postal_code": "10115", "country": "de"}


def test_letter_is_a_pdf_for_the_address() -> None:
    envelope = letter.build_letter(claimed(body_text="Dear Erika,\n\nYour order shipped."),
                                   {"address": ADDRESS, "page_size": "Letter"},
                                   letter.LetterOptions(origin_country="DE"))
    assert isinstance(envelope, LetterEnvelope)
    assert envelope.page_size == "Letter" and envelope.address.country == "DE"
    text = PdfReader(__import__("io").BytesIO(envelope.data)).pages[0].extract_text()
    assert "Erika Müller" in text and "Your order shipped." in text
    assert envelope.description == "Shipped"


@pytest.mark.parametrize(("payload", "reason"), [
    ({}, "no postal address"),
    ({"address": {**ADDRESS, "street": "x"}}, "unknown fields: street"),
    ({"address": {**ADDRESS, "postal_code": "1011"}}, "postal_code"),
    ({"address": {**ADDRESS, "name": ""}}, "name"),
    ({"address": {**ADDRESS, "city": ["Berlin"]}}, "strings"),
    ({"address": ADDRESS, "page_size": "A5"}, "page_size"),
])
def test_letter_that_can_never_go(payload: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        letter.build_letter(claimed(), payload, letter.LetterOptions())


# -- one call for the dispatcher ------------------------------------------------


def test_build_picks_the_builder_of_the_kind() -> None:
    options = builders.options_for("sms", {"default_region": "DE", "max_segments": 3})
    assert options == sms.SmsOptions("DE", 3, None)
    assert builders.build("sms", claimed(), {}, options).recipients == ["+49301234567"]
    push_options = builders.options_for("push", {"ttl_seconds": 60, "urgency": "low"})
    envelope = builders.build("push", claimed(), {"subscription": SUBSCRIPTION}, push_options)
    assert isinstance(envelope, PushEnvelope) and envelope.ttl_seconds == 60
    letter_options = builders.options_for("print", {"page_size": "Letter",
                                                    "assets_base_url": "/srv/assets/"})
    assert letter_options == letter.LetterOptions("Letter", None, None, "/srv/assets/")


@pytest.mark.parametrize(("kind", "settings"), [("email", {}), ("fax", {}),
                                                ("push", {"urgency": "now"}),
                                                ("print", {"page_size": "A3"})])
def test_options_refused(kind: str, settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        builders.options_for(kind, settings)


def test_build_refuses_options_of_another_kind() -> None:
    with pytest.raises(ValueError, match="no builder"):
        builders.build("push", claimed(), {}, sms.SmsOptions())
