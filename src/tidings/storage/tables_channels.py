"""Tables of the channels stage, on the shared metadata (see ``tables``).

The operator's objects (channel configurations, channel providers,
communication channels, provider status tables) and the shared state of
delivery control (rate-limit buckets). ``origin`` says who wrote a row last:
``project`` (seeded from ``tidings.toml`` by ``tidings sync`` or at start) or
``operator`` (the API or the CLI); a sync updates only ``project`` rows.
``channel_catalog`` holds one counter bumped by every write, which each
dispatcher polls to reload provider settings without a restart.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, String, Table, Text

from tidings.storage.tables import metadata
from tidings.storage.types import UTCDateTime

__all__ = [
    "channel_catalog", "channel_configs", "channel_providers", "communication_channels",
    "metadata", "provider_statuses", "rate_buckets",
]

channel_configs = Table(
    "channel_configs", metadata,
    Column("name", String(64), primary_key=True),
    Column("code", Integer, nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # email | sms | push | print
    Column("origin", String(16), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

channel_providers = Table(
    "channel_providers", metadata,
    Column("name", String(64), primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("type", String(32), nullable=False),
    Column("service_url", String(500)),
    Column("user", String(200)),
    Column("secret_env", String(128)),  # the NAME of an env var, never the secret
    Column("from_address", String(400)),
    Column("bulk_size", Integer, nullable=False),
    Column("interval_min", String(8), nullable=False),  # HH:MM:SS, UTC
    Column("interval_max", String(8), nullable=False),
    Column("retry_max_attempts", Integer, nullable=False),
    Column("retry_interval_seconds", Float, nullable=False),
    Column("retry_max_interval_seconds", Float, nullable=False),
    Column("max_age_seconds", Float, nullable=False),
    Column("rate_per_second", Float),
    Column("open_tracking", Boolean, nullable=False),
    Column("click_tracking", Boolean, nullable=False),
    Column("settings", Text, nullable=False),  # JSON; secrets only as *_env names
    Column("position", Integer, nullable=False),  # order in the project file
    Column("origin", String(16), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

communication_channels = Table(
    "communication_channels", metadata,
    Column("name", String(64), primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("providers", Text, nullable=False),  # JSON list: primary first, then failover
    Column("default_action", String(32), nullable=False),
    Column("entity", String(64)),
    Column("origin", String(16), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

provider_statuses = Table(
    "provider_statuses", metadata,
    Column("provider", String(64), primary_key=True),
    Column("code", String(32), primary_key=True),
    Column("action", String(16), nullable=False),  # sent|delivered|retry|failover|fail|bounce
    Column("description", String(300), nullable=False),
    Column("origin", String(16), nullable=False),  # seed | project | operator
    Column("updated_at", UTCDateTime, nullable=False),
)

channel_catalog = Table(
    "channel_catalog", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("version", Integer, nullable=False),
    Column("synced_at", UTCDateTime),
)

rate_buckets = Table(
    "rate_buckets", metadata,
    Column("provider", String(64), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("refilled_at", UTCDateTime, nullable=False),
    Column("blocked_until", UTCDateTime),  # a 429's Retry-After pauses every worker
)
