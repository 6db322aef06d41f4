"""GSM 03.38 / UCS-2 detection and segment counting, from the 3GPP TS 23.038 tables."""

from __future__ import annotations

import pytest

from tidings.providers import errors
from tidings.providers.sms_text import GSM7_BASIC, GSM7_EXTENSION, SmsInfo, SmsText

# TS 23.038 6.2.1: the 128 positions of the default alphabet, ESC (0x1B) shown as None.
SPEC_TABLE = [
    "@", "£", "$", "¥", "è", "é", "ù", "ì", "ò", "Ç", "\n", "Ø", "ø", "\r", "Å", "å",
    "Δ", "_", "Φ", "Γ", "Λ", "Ω", "Π", "Ψ", "Σ", "Θ", "Ξ", None, "Æ", "æ", "ß", "É",
    " ", "!", '"', "#", "¤", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".", "/",
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ":", ";", "<", "=", ">", "?",
    "¡", "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O",
    "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z", "Ä", "Ö", "Ñ", "Ü", "§",
    "¿", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
    "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "ä", "ö", "ñ", "ü", "à",
]
# 6.2.1.1: the extension table (ESC + code).
SPEC_EXTENSION = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[",
                  0x3D: "~", 0x3E: "]", 0x40: "|", 0x65: "€"}

unlimited = SmsText(max_segments=None)


def test_alphabet_matches_the_spec_table() -> None:
    assert len(SPEC_TABLE) == 128
    assert frozenset(c for c in SPEC_TABLE if c is not None) == GSM7_BASIC
    assert frozenset(SPEC_EXTENSION.values()) == GSM7_EXTENSION


@pytest.mark.parametrize("char", [c for c in SPEC_TABLE if c is not None])
def test_every_basic_character_is_one_septet(char) -> None:
    assert unlimited.analyse(char * 160) == SmsInfo("GSM-7", 1, 160)


@pytest.mark.parametrize("char", sorted(GSM7_EXTENSION))
def test_every_extension_character_is_two_septets(char) -> None:
    assert unlimited.analyse(char * 80) == SmsInfo("GSM-7", 1, 160)
    assert unlimited.analyse(char * 81) == SmsInfo("GSM-7", 2, 162)


@pytest.mark.parametrize("char", ["ç", "`", "á", "ê", "\u0391", "ł", "™", "\t", "你", "😀"])
def test_a_character_outside_the_alphabet_makes_the_body_ucs2(char) -> None:
    assert unlimited.analyse("Order shipped " + char).encoding == "UCS-2"


CASES = [
    # body, encoding, segments, units
    ("", "GSM-7", 1, 0),
    ("a" * 160, "GSM-7", 1, 160),
    ("a" * 161, "GSM-7", 2, 161),
    ("a" * 306, "GSM-7", 2, 306),
    ("a" * 307, "GSM-7", 3, 307),
    ("a" * 159 + "€", "GSM-7", 2, 161),
    ("a" * 158 + "€", "GSM-7", 1, 160),
    # the escape pair would straddle segments 1 and 2, so it moves whole into segment 2
    ("a" * 152 + "€" + "a" * 152, "GSM-7", 3, 306),
    ("a" * 153 + "€" + "a" * 151, "GSM-7", 2, 306),
    ("ç" * 70, "UCS-2", 1, 70),
    ("ç" * 71, "UCS-2", 2, 71),
    ("ç" * 134, "UCS-2", 2, 134),
    ("ç" * 135, "UCS-2", 3, 135),
    ("😀" * 35, "UCS-2", 1, 70),
    ("😀" * 36, "UCS-2", 2, 72),
    # a surrogate pair is never split: 66 units + pair does not fit in 67
    ("ç" * 66 + "😀" + "ç" * 66, "UCS-2", 3, 134),
    ("ç" * 65 + "😀" + "ç" * 67, "UCS-2", 2, 134),
    ("Ihre Bestellung EX-100001 ist unterwegs: https://t.example/x", "GSM-7", 1, 60),
]


@pytest.mark.parametrize(("body", "encoding", "segments", "units"), CASES)
def test_segments(body, encoding, segments, units) -> None:
    assert unlimited.analyse(body) == SmsInfo(encoding, segments, units)


def test_limit_raises_with_the_analysis() -> None:
    limited = SmsText(max_segments=2)
    assert limited.analyse("a" * 306).segments == 2
    with pytest.raises(errors.SmsTooLong) as caught:
        limited.analyse("a" * 307)
    assert caught.value.info == SmsInfo("GSM-7", 3, 307)
    assert caught.value.max_segments == 2
    assert "3 segments" in str(caught.value)


def test_default_limit_is_ten_segments() -> None:
    assert SmsText().analyse("a" * 1530).segments == 10
    with pytest.raises(errors.SmsTooLong):
        SmsText().analyse("a" * 1531)
