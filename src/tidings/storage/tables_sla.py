"""Tables of the sla stage, on the shared metadata (see ``tables``).

- ``sla_retailers`` / ``sla_rules``: each retailer's calendar and SLA rules (JSON documents,
  edited through the API or the CLI); ``revision`` grows with every change so cached rule
  books know when to reload.
- ``sla_orders`` / ``sla_order_events``: orders and their timelines.
- ``sla_obligations``: what a supplier owes on an order, with its deadline; ``stage`` is how
  far its clock has run (pending, warned, overdue).
- ``sla_timers``: one row per open obligation, the next instant something happens to it;
  claimed by ``fire_at`` like the outbox (never found by scanning orders).
- ``sla_exceptions``: warnings and overdue exceptions, open until the obligation is met.
- ``sla_party_keys``: API keys bound to one retailer or supplier of a tenant.
- ``sla_subscriptions`` / ``sla_digest_runs``: digest preferences (cron + zone, found through
  ``next_run_at``) and the fire-once row of each (subscription, slot).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from tidings.storage.tables import metadata
from tidings.storage.types import BigId, UTCDateTime

__all__ = [
    "metadata",
    "sla_digest_runs",
    "sla_exceptions",
    "sla_obligations",
    "sla_order_events",
    "sla_orders",
    "sla_party_keys",
    "sla_retailers",
    "sla_rules",
    "sla_subscriptions",
    "sla_timers",
]

PARTY = 128  # characters of a retailer or supplier id

sla_retailers = Table(
    "sla_retailers", metadata,
    Column("tenant", String(64), primary_key=True),
    Column("retailer", String(PARTY), primary_key=True),
    Column("name", String(200), nullable=False, server_default=""),
    Column("calendar", Text, nullable=False),  # JSON, see sla.rulebook
    Column("revision", Integer, nullable=False, server_default="0"),
    Column("updated_at", UTCDateTime, nullable=False),
)

sla_rules = Table(
    "sla_rules", metadata,
    Column("tenant", String(64), primary_key=True),
    Column("retailer", String(PARTY), primary_key=True),
    Column("rule_id", String(64), primary_key=True),
    Column("obligation", String(32), nullable=False),
    Column("definition", Text, nullable=False),  # JSON, see sla.rulebook
    Column("updated_at", UTCDateTime, nullable=False),
)

sla_orders = Table(
    "sla_orders", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("retailer", String(PARTY), nullable=False),
    Column("supplier", String(PARTY), nullable=False),
    Column("order_ref", String(128), nullable=False),
    Column("status", String(32), nullable=False),
    Column("details", Text, nullable=False, server_default="{}"),  # JSON snapshot
    Column("submitted_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant", "retailer", "order_ref"),
    Index(None, "tenant", "order_ref"),
    Index(None, "tenant", "supplier", "created_at"),
)

sla_order_events = Table(
    "sla_order_events", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("order_id", BigId, ForeignKey("sla_orders.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(64), nullable=False),
    Column("external_id", String(255)),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("source", String(64), nullable=False),
    Column("summary", Text, nullable=False, server_default="{}"),  # JSON
    UniqueConstraint("order_id", "external_id"),
    Index(None, "order_id", "occurred_at"),
)

sla_obligations = Table(
    "sla_obligations", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("retailer", String(PARTY), nullable=False),
    Column("supplier", String(PARTY), nullable=False),
    Column("order_id", BigId, ForeignKey("sla_orders.id", ondelete="CASCADE"), nullable=False),
    Column("obligation", String(32), nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("met_by", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # open | met | cancelled
    Column("stage", String(16), nullable=False),  # pending | warned | overdue
    Column("started_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("warn_at", UTCDateTime, nullable=False),
    Column("due_week", String(8), nullable=False),  # ISO week of due_at, retailer's zone
    Column("met_at", UTCDateTime),
    Column("late_seconds", Float),  # met_at - due_at; on time iff < 0
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "order_id", "state"),
    Index(None, "tenant", "retailer", "state"),
    Index(None, "tenant", "supplier", "due_week"),
    Index(None, "tenant", "retailer", "due_week"),
)

sla_timers = Table(
    "sla_timers", metadata,
    Column("obligation_id", BigId, ForeignKey("sla_obligations.id", ondelete="CASCADE"),
           primary_key=True, autoincrement=False),
    Column("kind", String(8), nullable=False),  # warn | due
    Column("fire_at", UTCDateTime, nullable=False),
    # The claim reads timers in fire_at order and stops at the first one in the future.
    Index(None, "fire_at"),
)

sla_exceptions = Table(
    "sla_exceptions", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("retailer", String(PARTY), nullable=False),
    Column("supplier", String(PARTY), nullable=False),
    Column("order_id", BigId, ForeignKey("sla_orders.id", ondelete="CASCADE"), nullable=False),
    Column("order_ref", String(128), nullable=False),
    Column("obligation_id", BigId, ForeignKey("sla_obligations.id", ondelete="CASCADE"),
           nullable=False),
    Column("obligation", String(32), nullable=False),
    Column("kind", String(8), nullable=False),  # warning | overdue
    Column("status", String(16), nullable=False),  # open | resolved | escalated | cancelled
    Column("due_at", UTCDateTime, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("met_at", UTCDateTime),
    Column("late_seconds", Float),
    UniqueConstraint("obligation_id", "kind"),
    # A party's list: scope, kind and status by equality, then lateness (= due_at order).
    Index(None, "tenant", "supplier", "kind", "status", "due_at"),
    Index(None, "tenant", "retailer", "kind", "status", "due_at"),
)

sla_party_keys = Table(
    "sla_party_keys", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("party_kind", String(16), nullable=False),  # retailer | supplier
    Column("party", String(PARTY), nullable=False),
    Column("prefix", String(32), nullable=False, unique=True),
    Column("secret_hash", String(128), nullable=False),
    Column("label", String(200), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

sla_subscriptions = Table(
    "sla_subscriptions", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("supplier", String(PARTY), nullable=False),
    Column("email", String(320), nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    Column("locale", String(35)),
    Column("enabled", Boolean, nullable=False),
    Column("cron", String(64), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("retailers", Text),  # JSON list; NULL: every retailer
    Column("obligations", Text),  # JSON list; NULL: every obligation
    Column("send_empty", Boolean, nullable=False),
    Column("next_run_at", UTCDateTime),  # NULL while opted out
    Column("last_slot_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant", "supplier", "email"),
    Index(None, "next_run_at"),
)

sla_digest_runs = Table(
    "sla_digest_runs", metadata,
    Column("subscription_id", BigId,
           ForeignKey("sla_subscriptions.id", ondelete="CASCADE"), primary_key=True),
    Column("slot", String(32), primary_key=True),  # schedule.slot_key: the fire-once key
    Column("slot_at", UTCDateTime, nullable=False),
    Column("state", String(16), nullable=False),  # queued | sent | empty | failed
    Column("scheduler", String(100), nullable=False),
    Column("queued_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime),
    Column("message_id", BigId),
    Column("detail", Text),
    Index(None, "state", "queued_at"),
)
