"""What every provider takes and gives: the envelope and the Provider protocol.

The dispatcher claims up to ``provider.max_batch`` outbox rows, builds one
:class:`Envelope` per row and calls ``send_batch``; it gets back one outcome per
envelope, in the same order, and records each against ``Envelope.key``.

Limits are stated Apprise-style as attributes with a class-level default
(``SmtpProvider.max_batch``) that one instance may override from its settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from tidings.domain.outcomes import Outcome

__all__ = ["Envelope", "Provider"]


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message ready for the wire.

    ``data`` is the whole message as it goes on the wire (headers and body,
    CRLF line ends, already DKIM-signed if it is to be); ``key`` is the outbox
    row id the outcome belongs to. Retries reuse the same bytes, hence the
    same Message-ID.
    """

    message_id: str
    sender: str
    recipients: list[str]
    data: bytes
    key: int


@runtime_checkable
class Provider(Protocol):
    """A vendor connection that turns envelopes into outcomes.

    ``send_batch`` returns a list of the same length and order as its input
    and never raises for a per-message problem. Not thread-safe: the
    dispatcher uses one instance per worker thread.
    """

    name: str
    max_batch: int
    """Most envelopes one ``send_batch`` call accepts (the dispatcher's claim size)."""
    max_recipients: int
    """Most recipients in one envelope."""
    max_message_bytes: int
    """Largest ``Envelope.data`` accepted; bigger ones come back ``Failed``."""

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        """Hand each envelope to the vendor and say what happened to it."""
        ...

    def close(self) -> None:
        """Release connections; the provider may be used again afterwards."""
        ...
