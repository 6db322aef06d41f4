"""Envelopes of the push and print channels: the wire data plus what the vendor also needs.

They extend :class:`~tidings.providers.base.Envelope`, so the dispatcher and
the ``Provider`` protocol stay channel-blind: a push envelope carries the
browser's subscription next to the notification bytes, a letter envelope the
postal address next to the PDF. An SMS needs nothing more than the base
envelope (recipients = [E.164 number], data = body).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from tidings.providers.base import Envelope

if TYPE_CHECKING:  # annotations only: importing render.pdf loads WeasyPrint (~1 s)
    from tidings.render.pdf import PageSize, PostalAddress

__all__ = ["LetterEnvelope", "PushEnvelope", "Subscription", "Urgency"]

Urgency = Literal["very-low", "low", "normal", "high"]


@dataclass(frozen=True, slots=True)
class Subscription:
    """A browser's push subscription (``PushSubscription.toJSON()``), keys in base64url."""

    endpoint: str
    p256dh: str
    auth: str

    def as_info(self) -> dict[str, object]:
        """The ``subscription_info`` mapping pywebpush expects."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass(frozen=True, slots=True)
class PushEnvelope(Envelope):
    """``data`` is the notification JSON in clear; the provider encrypts it (RFC 8291)."""

    subscription: Subscription
    ttl_seconds: int = 86_400
    urgency: Urgency = "normal"
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class LetterEnvelope(Envelope):
    """``data`` is the print-ready PDF; ``address`` is also printed in its window area."""

    address: PostalAddress
    page_size: PageSize = "A4"
    description: str = ""
