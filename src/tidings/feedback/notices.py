"""One shape for every piece of feedback, whatever sent it.

An SES notification, a returned mail, an SMS status callback and a one-click
unsubscribe each become a :class:`Notice`: what happened (``kind``), when the
source says it happened, which message it is about (:class:`MessageRef`, any
of our row id, the provider's id or our Message-ID header) and which of the
message's addresses it concerns. ``key`` names the notice at its source (an
SNS MessageId, a returned mail's Message-ID); a notice whose key was seen
before is a duplicate and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = ["Kind", "MessageRef", "Notice"]


class Kind(StrEnum):
    DELAYED = "delayed"
    DELIVERED = "delivered"
    SOFT_BOUNCE = "soft_bounce"
    REJECTED = "rejected"
    HARD_BOUNCE = "hard_bounce"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"
    UNKNOWN = "unknown"
    """Recorded on the timeline, changes nothing (an unreadable return, for instance)."""


@dataclass(frozen=True, slots=True)
class MessageRef:
    """How a notice names its message: by row id, else provider id, else Message-ID.

    ``proof`` is what a return address carries (see ``verp.proof_of``): a
    digest of the message's Message-ID; the message is found only when it matches.
    """

    message_id: int | None = None
    provider_message_id: str | None = None
    message_id_header: str | None = None
    proof: str | None = None
    tenant: str | None = None
    """Given: the message must belong to this tenant."""

    def __bool__(self) -> bool:
        return bool(self.message_id or self.provider_message_id or self.message_id_header)


@dataclass(frozen=True, slots=True)
class Notice:
    kind: Kind
    at: datetime
    source: str
    """Who told us: ``ses``, ``smtp-return``, ``dispatch``, ``unsubscribe``, ``twilio``..."""
    ref: MessageRef
    recipients: tuple[str, ...] = ()
    """The addresses it concerns; empty: the message's own recipient."""
    reason: str = ""
    code: str = ""
    """The source's own code: an enhanced status (5.1.1), a bounce type, a feedback type."""
    key: str | None = None
    """Unique at its source; None: never treated as a duplicate."""
    detail: dict[str, str] = field(default_factory=dict)
