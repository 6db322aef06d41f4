"""An SMS: the body of a claimed message to one E.164 number, checked against the segment limit.

The number is ``payload["phone"]`` when present, else the first ``to``
address (a rule may route ``to = ["/customer/phone"]``); a national number is
read in ``payload["region"]`` or the provider's ``default_region``. The body is
the message's rendered text. A number that is not dialable or a body over the
provider's segment limit raises (``InvalidPhoneNumber``, ``SmsTooLong``, both
``ValueError``) before any provider is called.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tidings.outbox.messages import Claimed
from tidings.providers import phone, sms_text
from tidings.providers.base import Envelope

__all__ = ["SmsOptions", "build_sms"]


@dataclass(frozen=True, slots=True)
class SmsOptions:
    """Per-provider SMS settings (``default_region``, ``max_segments``, ``sender``)."""

    default_region: str = "US"
    max_segments: int | None = sms_text.DEFAULT_MAX_SEGMENTS
    sender: str | None = None
    """From number or alphanumeric sender id; ``None``: the message's own sender."""

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> SmsOptions:
        segments = settings.get("max_segments", sms_text.DEFAULT_MAX_SEGMENTS)
        return cls(default_region=str(settings.get("default_region", "US")),
                   max_segments=None if segments is None else int(segments),
                   sender=settings.get("sender"))


def build_sms(claimed: Claimed, payload: Mapping[str, Any], options: SmsOptions) -> Envelope:
    """The SMS envelope of ``claimed``: recipients = [E.164], data = body (UTF-8)."""
    number = payload.get("phone") or (claimed.to[0] if claimed.to else "")
    if not isinstance(number, str) or not number.strip():
        raise ValueError("no phone number: set payload.phone or a to address")
    region = str(payload.get("region") or options.default_region)
    e164 = phone.normalise(number, region)
    body = claimed.body_text.strip()
    if not body:
        raise ValueError("empty SMS body")
    sms_text.SmsText(options.max_segments).analyse(body)
    return Envelope(message_id=claimed.message_id_header, sender=options.sender or claimed.sender,
                    recipients=[e164], data=body.encode("utf-8"), key=claimed.id)
