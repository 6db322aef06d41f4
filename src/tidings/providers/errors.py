"""Errors raised by the provider building blocks.

A provider's ``send_batch`` never raises for a per-message problem: vendor
answers become outcomes. These errors are for configuration and for the pure
helpers that check input before it is queued::

    ProviderError                   base of everything raised here
    ├── ProviderConfigError         settings a provider cannot work with
    │   └── DkimKeyError            DKIM private key unreadable or domain/selector bad
    ├── DkimSignError               (also ValueError) a message dkimpy cannot sign
    ├── InvalidPhoneNumber          (also ValueError) not a dialable number; ``reason``
    └── SmsTooLong                  (also ValueError) more segments than allowed; ``info``

Foreign errors (smtplib, ssl, dkimpy, phonenumbers) are translated once, where
they are caught, with ``raise ... from exc``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tidings.providers.sms_text import SmsInfo

__all__ = [
    "DkimKeyError",
    "DkimSignError",
    "InvalidPhoneNumber",
    "ProviderConfigError",
    "ProviderError",
    "SmsTooLong",
]


class ProviderError(Exception):
    """Base class of the errors raised by ``tidings.providers``."""


class ProviderConfigError(ProviderError):
    """A provider was configured with settings it cannot work with."""


class DkimKeyError(ProviderConfigError):
    """A DKIM private key could not be read, or its domain/selector is unusable."""


class DkimSignError(ProviderError, ValueError):
    """A message could not be DKIM-signed (no header block, malformed header)."""


class InvalidPhoneNumber(ProviderError, ValueError):
    """A phone number cannot be turned into a dialable E.164 number.

    ``reason`` is one short machine-friendly word or phrase (``"too short"``,
    ``"invalid for region"``...); the number itself is kept out of the message
    because it is personal data.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid phone number: {reason}")
        self.reason = reason


class SmsTooLong(ProviderError, ValueError):
    """An SMS body needs more segments than the limit allows."""

    def __init__(self, info: SmsInfo, max_segments: int) -> None:
        super().__init__(
            f"SMS needs {info.segments} segments ({info.encoding}, {info.units} units); "
            f"the limit is {max_segments}"
        )
        self.info = info
        self.max_segments = max_segments
