"""Tables of the ingest stage, on the shared metadata (see ``tables``).

- ``dead_letters``: one row per inbound record that could not be decoded,
  validated or routed, with its (size-capped) original payload, the closed
  reason code (``ingest.deadletters.Reason``), where in its input it sat, and
  how often it was tried. ``(source, dedupe_key)`` is unique so that a file or
  message processed twice (a crash before its acknowledgement) leaves one row.
- ``source_status``: one row per configured source: its last run and totals.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from tidings.storage.tables import metadata
from tidings.storage.types import BigId, UTCDateTime

__all__ = ["dead_letters", "metadata", "source_status"]

dead_letters = Table(
    "dead_letters", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tenant", String(64)),  # None: the record failed before its tenant was known
    Column("source", String(64), nullable=False),
    Column("message_type", String(64)),
    Column("reason", String(32), nullable=False),
    Column("location", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("payload_bytes", Integer, nullable=False),  # before the cap
    Column("truncated", Boolean, nullable=False, server_default=text("false")),
    Column("context", Text),  # JSON: what replay needs besides the payload (envelope, header)
    Column("dedupe_key", String(255)),
    Column("status", String(16), nullable=False),  # open | replayed
    Column("attempts", Integer, nullable=False, server_default="1"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("replayed_at", UTCDateTime),
    Column("replayed_event_id", BigInteger),
    UniqueConstraint("source", "dedupe_key"),
    Index(None, "tenant", "status", "created_at"),
    Index(None, "reason"),
)

source_status = Table(
    "source_status", metadata,
    Column("name", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("tenant", String(64)),
    Column("runs", Integer, nullable=False, server_default="0"),
    Column("accepted", BigInteger, nullable=False, server_default="0"),
    Column("duplicates", BigInteger, nullable=False, server_default="0"),
    Column("dead_lettered", BigInteger, nullable=False, server_default="0"),
    Column("last_run_at", UTCDateTime),
    Column("last_ok_at", UTCDateTime),
    Column("last_error", Text),
    Column("last_error_at", UTCDateTime),
    Column("next_run_at", UTCDateTime),
)
