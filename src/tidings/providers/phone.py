"""Phone numbers in E.164, the one form SMS vendors and the suppression list use.

``normalise("030 1234567", "DE")`` gives ``"+49301234567"``. Parsing and
validation are libphonenumber's (the ``phonenumbers`` package); its errors are
translated into :class:`~tidings.providers.errors.InvalidPhoneNumber` with a
short reason, never the number itself (personal data stays out of messages).
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from tidings.providers import errors

__all__ = ["normalise"]

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code or region",
    NumberParseException.NOT_A_NUMBER: "not a number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_LENGTH_REASONS = {
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "local number without area code",
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.INVALID_LENGTH: "invalid length",
    ValidationResult.TOO_LONG: "too long",
}


def normalise(number: str, default_region: str) -> str:
    """Return ``number`` in E.164 (``+<country><national>``).

    ``default_region`` (ISO 3166 alpha-2, e.g. ``"DE"``) applies to numbers
    written without an international prefix. Raises ``InvalidPhoneNumber``
    when the number cannot be parsed, has an impossible length, or is not a
    number any operator of its country assigns.
    """
    try:
        parsed = phonenumbers.parse(number, default_region.upper())
    except NumberParseException as exc:
        raise errors.InvalidPhoneNumber(_PARSE_REASONS.get(exc.error_type, "unparsable")) from exc
    length = phonenumbers.is_possible_number_with_reason(parsed)
    if length != ValidationResult.IS_POSSIBLE:
        raise errors.InvalidPhoneNumber(_LENGTH_REASONS.get(length, "impossible number"))
    if not phonenumbers.is_valid_number(parsed):
        raise errors.InvalidPhoneNumber("not an assigned number range")
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
