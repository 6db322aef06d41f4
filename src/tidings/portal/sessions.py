"""Signed-in browsers: a random token in a cookie, its SHA-256 in ``portal_sessions``.

A token is 256 random bits, so a fast hash is enough; the table never holds a usable token.
A session ends at its absolute ``expires_at`` (``MAX_SECONDS`` after sign-in), after
``IDLE_SECONDS`` without a request, or at sign-out. ``last_seen_at`` is written at most every
``TOUCH_SECONDS``, so reading pages does not write the database on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, or_, select, update

from tidings.storage.tables_portal import portal_sessions

__all__ = ["IDLE_SECONDS", "MAX_SECONDS", "Sessions"]

S = portal_sessions
MAX_SECONDS = 7 * 24 * 3600
IDLE_SECONDS = 12 * 3600
TOUCH_SECONDS = 60
TOKEN_BYTES = 32


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def open(self, user_id: int, now: datetime) -> str:
        """A new session for ``user_id``; returns the token for the cookie (shown only here)."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self.engine.begin() as conn:
            conn.execute(insert(S).values(token_hash=_hash(token), user_id=user_id,
                                          created_at=now, last_seen_at=now,
                                          expires_at=now + timedelta(seconds=MAX_SECONDS)))
        return token

    def user_of(self, token: str, now: datetime) -> int | None:
        """The user a live session belongs to; ``None`` for an unknown or ended session."""
        key = _hash(token)
        with self.engine.connect() as conn:
            row = conn.execute(select(S.c.user_id, S.c.last_seen_at, S.c.expires_at)
                               .where(S.c.token_hash == key)).first()
        if row is None or row.expires_at <= now or \
                row.last_seen_at + timedelta(seconds=IDLE_SECONDS) <= now:
            return None
        if now - row.last_seen_at >= timedelta(seconds=TOUCH_SECONDS):
            with self.engine.begin() as conn:
                conn.execute(update(S).where(S.c.token_hash == key).values(last_seen_at=now))
        return int(row.user_id)

    def close(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(S).where(S.c.token_hash == _hash(token)))

    def close_all(self, user_id: int) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(delete(S).where(S.c.user_id == user_id)).rowcount)

    def purge(self, now: datetime) -> int:
        """Delete ended sessions; returns how many."""
        idle = now - timedelta(seconds=IDLE_SECONDS)
        with self.engine.begin() as conn:
            return int(conn.execute(delete(S).where(
                or_(S.c.expires_at <= now, S.c.last_seen_at <= idle))).rowcount)
