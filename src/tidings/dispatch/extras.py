"""What the dispatcher reads of a message beyond its claimed columns.

The channel (its kind picks the envelope builder), the communication channel
(its provider list is the failover chain), the rule (a subscribed rule gets
one-click unsubscribe headers) and the channel payload JSON (attachments,
phone, push subscription, postal address, extended properties). Read in one
query per claimed batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["NO_EXTRAS", "MessageExtras"]


@dataclass(frozen=True, slots=True)
class MessageExtras:
    channel: str = "email"
    communication_channel: str | None = None
    rule: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)

    @property
    def list_unsubscribe(self) -> bool:
        """The recipient subscribed to this message (a digest, a report)."""
        return bool(self.payload.get("list_unsubscribe"))


NO_EXTRAS = MessageExtras()
