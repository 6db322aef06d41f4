"""The capture provider: the embedded default, which keeps every message it is given.

Nothing leaves the machine. Each message is stored whole (its wire bytes) in
the ``captures`` table, readable through ``GET /v1/messages/{id}/raw`` and
``tidings messages show ID --raw``. A retry replaces the stored copy.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, delete, insert

from tidings.clock import Clock
from tidings.domain.outcomes import Outcome, Sent
from tidings.providers.base import Envelope
from tidings.storage import tables

__all__ = ["CaptureProvider"]


class CaptureProvider:
    max_batch = 10_000
    max_recipients = 1_000
    max_message_bytes = 50_000_000

    def __init__(self, name: str, engine: Engine, clock: Clock) -> None:
        self.name, self._engine, self._clock = name, engine, clock

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        if not envelopes:
            return []
        now = self._clock.now()
        keys = [e.key for e in envelopes]
        with self._engine.begin() as conn:
            conn.execute(delete(tables.captures).where(tables.captures.c.message_id.in_(keys)))
            conn.execute(insert(tables.captures), [
                {"message_id": e.key, "raw": e.data, "captured_at": now, "provider": self.name}
                for e in envelopes])
        return [Sent("250 captured") for _ in envelopes]

    def close(self) -> None:
        return None
