"""Tracking tokens: opaque, authenticated, bound to their purpose and secret."""

from __future__ import annotations

import base64
import random
import string

import pytest

from tidings.feedback.tokens import MAX_TOKEN_CHARS, Purpose, TokenBox

MID = "<0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f@acme.example>"
URL = "https://shop.example/account?email=ada@example.com&order=SO-1"
BOX = TokenBox("x" * 40)


def test_round_trip() -> None:
    sealed = BOX.open(Purpose.CLICK, BOX.seal(Purpose.CLICK, MID, URL))
    assert sealed is not None and (sealed.message_id_header, sealed.url) == (MID, URL)
    pixel = BOX.open(Purpose.OPEN, BOX.seal(Purpose.OPEN, MID))
    assert pixel is not None and pixel.url is None


def test_opaque_nothing_readable_inside() -> None:
    token = BOX.seal(Purpose.CLICK, MID, URL)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for secret in (b"ada@example.com", b"acme.example", b"SO-1", b"shop.example", b"0c1d2e3f"):
        assert secret not in raw and secret.decode() not in token
    assert BOX.seal(Purpose.OPEN, MID) != BOX.seal(Purpose.OPEN, MID)  # random nonce


def test_ten_thousand_random_tokens_open_nothing() -> None:
    rng = random.Random(4711)
    alphabet = string.ascii_letters + string.digits + "-_"
    tokens = ["".join(rng.choices(alphabet, k=rng.randint(1, 200))) for _ in range(10_000)]
    assert [t for t in tokens if BOX.open(Purpose.OPEN, t) or BOX.open(Purpose.CLICK, t)] == []


def test_every_single_character_change_is_refused() -> None:
    token = BOX.seal(Purpose.CLICK, MID, URL)
    for i in range(len(token)):
        for replacement in "AZ09_-":
            if token[i] != replacement:
                changed = token[:i] + replacement + token[i + 1:]
                assert BOX.open(Purpose.CLICK, changed) is None, (i, replacement)


def test_other_purpose_other_secret_and_oversize_are_refused() -> None:
    token = BOX.seal(Purpose.OPEN, MID)
    assert BOX.open(Purpose.CLICK, token) is None
    assert TokenBox("y" * 40).open(Purpose.OPEN, token) is None
    assert BOX.open(Purpose.OPEN, "A" * (MAX_TOKEN_CHARS + 1)) is None
    assert BOX.open(Purpose.OPEN, "") is None


def test_nul_in_message_id_is_refused() -> None:
    with pytest.raises(ValueError, match="NUL"):
        BOX.seal(Purpose.OPEN, "<a\x00b@c>")
