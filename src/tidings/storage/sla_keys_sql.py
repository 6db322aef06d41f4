"""API keys bound to one party (a retailer or a supplier) of a tenant, stored as hashes.

A party key reads ``tdp_<prefix>_<secret>`` (tenant keys read ``tdg_...``, see
``api_keys_sql``). The prefix finds the row; the secret's SHA-256 is compared in constant
time; the clear key is shown once, at creation. A valid key yields the ``Viewer`` whose
scope every sla read and write applies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from tidings.sla import parties
from tidings.storage import tables_sla

__all__ = ["KEY_PREFIX", "SqlPartyKeys"]

K = tables_sla.sla_party_keys
KEY_PREFIX = "tdp"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SqlPartyKeys:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, tenant: str, kind: parties.PartyKind, party: str, label: str,
               now: datetime) -> str:
        if kind is parties.PartyKind.OPERATOR:
            raise ValueError("party keys are for retailers and suppliers; operators use "
                             "tenant keys")
        prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(insert(K).values(tenant=tenant, party_kind=kind.value, party=party,
                                          prefix=prefix, secret_hash=_digest(secret),
                                          label=label, created_at=now))
        return f"{KEY_PREFIX}_{prefix}_{secret}"

    def viewer_of(self, token: str) -> parties.Viewer | None:
        """The party a valid, unrevoked key belongs to; ``None`` otherwise."""
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(K.c.tenant, K.c.party_kind, K.c.party, K.c.secret_hash)
                               .where(K.c.prefix == parts[1], K.c.revoked_at.is_(None))).first()
        if row is None or not hmac.compare_digest(row.secret_hash, _digest(parts[2])):
            return None
        return parties.Viewer(row.tenant, parties.PartyKind(row.party_kind), row.party)

    def revoke(self, prefix: str, now: datetime) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(update(K).where(K.c.prefix == prefix, K.c.revoked_at.is_(None))
                                .values(revoked_at=now)).rowcount == 1

    def list(self, tenant: str | None = None) -> list[dict[str, Any]]:
        stmt = select(K.c.tenant, K.c.party_kind, K.c.party, K.c.prefix, K.c.label,
                      K.c.created_at, K.c.revoked_at)
        if tenant:
            stmt = stmt.where(K.c.tenant == tenant)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt.order_by(K.c.id))]
