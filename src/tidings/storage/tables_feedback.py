"""Tables of the feedback stage, on the shared metadata (see ``tables``).

- ``suppressions``: per tenant, the addresses that get no provider call, why and since when.
- ``message_feedback``: per message, the best feedback status so far (see
  ``feedback.precedence``) and its open and click counters, human and machine apart.
- ``feedback_receipts``: keys of notices already applied, so a duplicate changes nothing.
- ``feedback_cursors``: how far a follower of ``message_events`` has read.

It also indexes ``messages.message_id_header``: returned mail, complaints,
SES notifications and tracking tokens find their message by our Message-ID.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from tidings.storage.tables import messages, metadata
from tidings.storage.types import BigId, UTCDateTime

__all__ = [
    "feedback_cursors", "feedback_receipts", "message_feedback", "metadata", "suppressions",
]

suppressions = Table(
    "suppressions", metadata,
    Column("tenant", String(64), primary_key=True),
    Column("address", String(320), primary_key=True),  # lower-cased
    Column("reason", String(32), nullable=False),  # hard_bounce | complained | soft_bounce | ...
    Column("detail", Text, nullable=False, server_default=""),
    Column("source", String(64), nullable=False),
    Column("message_id", BigId),  # the message whose feedback suppressed it, if any
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "tenant", "created_at"),
)

message_feedback = Table(
    "message_feedback", metadata,
    Column("message_id", BigId, ForeignKey("messages.id", ondelete="CASCADE"),
           primary_key=True),
    Column("status", String(16)),  # the best feedback status (precedence.Kind) or NULL
    Column("status_rank", Integer, nullable=False, server_default="0"),
    Column("status_at", UTCDateTime),
    Column("status_code", String(64)),
    Column("status_reason", Text),
    Column("human_opens", Integer, nullable=False, server_default="0"),
    Column("machine_opens", Integer, nullable=False, server_default="0"),
    Column("human_clicks", Integer, nullable=False, server_default="0"),
    Column("machine_clicks", Integer, nullable=False, server_default="0"),
    Column("first_open_at", UTCDateTime),
    Column("first_click_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
)

feedback_receipts = Table(
    "feedback_receipts", metadata,
    Column("source", String(32), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
    Index(None, "received_at"),
)

feedback_cursors = Table(
    "feedback_cursors", metadata,
    Column("name", String(64), primary_key=True),
    Column("last_id", BigId, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

Index(None, messages.c.message_id_header)
