"""API keys per tenant, stored as hashes.

A key reads ``tdg_<prefix>_<secret>``. The prefix finds the row; the secret
is compared by its SHA-256 in constant time. Secrets are 256 random bits, so a
slow password hash adds nothing; the clear key is shown once, at creation.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import Engine, insert, select, update

from tidings.storage import tables
from tidings.storage.engine import reading

__all__ = ["SqlApiKeys"]

K = tables.api_keys


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SqlApiKeys:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.reader = reading(engine)

    def create(self, tenant: str, label: str, now: datetime) -> str:
        prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(insert(K).values(tenant=tenant, prefix=prefix,
                                          secret_hash=_digest(secret), label=label,
                                          created_at=now))
        return f"tdg_{prefix}_{secret}"

    def tenant_of(self, token: str) -> str | None:
        """The tenant a valid, unrevoked key belongs to; ``None`` otherwise."""
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "tdg":
            return None
        with self.reader.connect() as conn:
            row = conn.execute(select(K.c.tenant, K.c.secret_hash).where(
                K.c.prefix == parts[1], K.c.revoked_at.is_(None))).first()
        if row is None or not hmac.compare_digest(row.secret_hash, _digest(parts[2])):
            return None
        return str(row.tenant)

    def revoke(self, prefix: str, now: datetime) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(update(K).where(K.c.prefix == prefix, K.c.revoked_at.is_(None))
                                .values(revoked_at=now)).rowcount == 1

    def list(self, tenant: str | None = None) -> list[dict[str, object]]:
        stmt = select(K.c.tenant, K.c.prefix, K.c.label, K.c.created_at, K.c.revoked_at)
        if tenant:
            stmt = stmt.where(K.c.tenant == tenant)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt.order_by(K.c.id))]
