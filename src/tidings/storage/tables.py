"""The tables. Alembic migrations are kept equal to these (a test proves it)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from tidings.storage.types import BigId, UTCDateTime

__all__ = [
    "api_keys", "captures", "events", "idempotency_keys", "message_events", "messages",
    "metadata", "schedule_ticks",
]

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

api_keys = Table(
    "api_keys", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("prefix", String(32), nullable=False, unique=True),
    Column("secret_hash", String(128), nullable=False),
    Column("label", String(200), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("tenant", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # in_flight | done
    Column("response_status", Integer),
    Column("response_body", LargeBinary),
    Column("created_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime, nullable=False),
    Index(None, "created_at"),
)

events = Table(
    "events", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("type", String(64), nullable=False),
    Column("external_id", String(255)),
    Column("source", String(64), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant", "external_id"),
)

messages = Table(
    "messages", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("event_id", BigId, ForeignKey("events.id")),
    Column("dedupe_key", String(600), nullable=False),
    Column("rule", String(64)),
    Column("message_type", String(64)),
    Column("channel", String(64), nullable=False),
    Column("provider", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("to_addrs", Text, nullable=False),  # JSON list
    Column("cc_addrs", Text, nullable=False, server_default="[]"),
    Column("bcc_addrs", Text, nullable=False, server_default="[]"),
    Column("sender", String(400), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body_html", Text),
    Column("body_text", Text, nullable=False),
    Column("headers", Text, nullable=False, server_default="[]"),  # JSON [[name, value]]
    Column("message_id_header", String(255), nullable=False),
    Column("template", String(128)),
    Column("template_version", String(64)),
    Column("locale", String(35)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("leased_by", String(100)),
    Column("lease_until", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("last_error", Text),
    Column("provider_response", Text),
    Column("provider_message_id", String(255)),
    Column("communication_channel", String(64)),
    Column("business_unit", String(64)),
    Column("window_start", String(8)),  # HH:MM:SS, UTC: the message's own daily window
    Column("window_end", String(8)),
    Column("payload", Text, nullable=False, server_default="{}"),  # channel-specific JSON
    UniqueConstraint("tenant", "dedupe_key"),
    # The claim reads (provider, state, due_at) in index order.
    Index(None, "provider", "state", "due_at"),
    Index(None, "state", "lease_until"),
    Index(None, "state", "expires_at"),
    Index(None, "tenant", "created_at"),
    Index(None, "tenant", "recipient"),
    Index(None, "event_id"),
    Index(None, "provider_message_id"),
)

message_events = Table(
    "message_events", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("message_id", BigId, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(32), nullable=False),  # transition | open | click | feedback
    Column("from_state", String(16)),
    Column("to_state", String(16)),
    Column("reason", Text),
    Column("response", Text),
    Column("actor", String(100)),
    Index(None, "message_id", "at"),
)

captures = Table(
    "captures", metadata,
    Column("message_id", BigId, ForeignKey("messages.id", ondelete="CASCADE"),
           primary_key=True),
    Column("raw", LargeBinary, nullable=False),
    Column("captured_at", UTCDateTime, nullable=False),
    Column("provider", String(64), nullable=False),
)

schedule_ticks = Table(
    "schedule_ticks", metadata,
    Column("job", String(128), primary_key=True),
    Column("tick", String(64), primary_key=True),
    Column("fired_at", UTCDateTime, nullable=False),
    Column("done", Boolean, nullable=False, server_default=text("false")),
)

# Each stage keeps its tables in its own module on this metadata; importing them
# here makes ``metadata`` complete for migrations and the schema check.
from tidings.storage import (  # noqa: E402
    tables_channels,
    tables_feedback,
    tables_ingest,
    tables_portal,
    tables_sla,
)

_STAGE_TABLES = (tables_channels, tables_feedback, tables_ingest, tables_portal, tables_sla)
