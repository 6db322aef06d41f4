"""Tables of the portal, on the shared metadata (see ``tables``).

- ``portal_users``: one row per person who signs in to the web portal: a login (an email
  address, unique, lower-cased), an argon2 password hash, a role (operator, retailer,
  supplier, business_unit), the tenant it belongs to, and its party within that tenant (the
  retailer or supplier id, or the business unit; none for operators). Failed sign-ins are
  counted so that a login under attack is slowed down (``locked_until``).
- ``portal_sessions``: one row per signed-in browser. The cookie carries a random token; the
  row keeps only its SHA-256, so a copy of the table signs nobody in. A session ends at
  ``expires_at`` (absolute) or after an idle time measured from ``last_seen_at``.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from tidings.storage.tables import metadata
from tidings.storage.types import BigId, UTCDateTime

__all__ = ["metadata", "portal_sessions", "portal_users"]

portal_users = Table(
    "portal_users", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("login", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False, server_default=""),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),  # operator | retailer | supplier | business_unit
    Column("tenant", String(64), nullable=False),
    Column("party", String(128)),  # retailer, supplier or business unit; None for operators
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime),
    Index(None, "tenant", "role"),
)

portal_sessions = Table(
    "portal_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", BigId, ForeignKey("portal_users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "user_id"),
    Index(None, "expires_at"),
)
