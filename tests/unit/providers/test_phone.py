"""E.164 normalisation: (input, region) -> number or reason."""

from __future__ import annotations

import pytest

from tidings.providers import errors
from tidings.providers.phone import normalise

VALID = [
    ("030 1234567", "DE", "+49301234567"),
    ("+49 (0)30 1234567", "US", "+49301234567"),
    ("0049 30 1234567", "DE", "+49301234567"),
    ("0151 23456789", "de", "+4915123456789"),
    ("(202) 555-0143", "US", "+12025550143"),
    ("+1 202-555-0143", "GB", "+12025550143"),
    ("07911 123456", "GB", "+447911123456"),
    ("01 23 45 67 89", "FR", "+33123456789"),
    ("tel:+44-20-7946-0958", "DE", "+442079460958"),
]

INVALID = [
    ("hello", "DE", "not a number"),
    ("+49 1", "DE", "too short"),
    ("12", "DE", "local number without area code"),
    ("+49 30 1234567890123456789", "DE", "too long"),
    ("030 1234567", "XX", "unknown country code or region"),
    ("+999 1234567", "DE", "unknown country code or region"),
    ("555-0143", "US", "local number without area code"),
    ("(000) 555-0143", "US", "not an assigned number range"),
]


@pytest.mark.parametrize(("number", "region", "expected"), VALID)
def test_valid_numbers_become_e164(number, region, expected) -> None:
    assert normalise(number, region) == expected


@pytest.mark.parametrize(("number", "region", "reason"), INVALID)
def test_invalid_numbers_say_why(number, region, reason) -> None:
    with pytest.raises(errors.InvalidPhoneNumber) as caught:
        normalise(number, region)
    assert caught.value.reason == reason
    assert number not in str(caught.value)
    assert isinstance(caught.value, ValueError)
