"""Idempotency keys, as Stripe's API keeps them.

``begin`` claims a key for a request: the first request with a key proceeds
(``Proceed``); the same key and body again replays the first answer
(``Replay``); another body gets ``Mismatch`` (422); a request still in flight
with that key gets ``InFlight`` (409). The final answer is written by
``finish`` inside the same transaction that commits the request's work, so a
replayed answer always describes committed rows. A request that fails without
committing anything releases its key (``release``), so the client may retry.
A key whose request died holds its lock only until ``locked_until``.
Keys are scoped per tenant and kept at least 24 hours (``purge``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from tidings.storage import tables

__all__ = ["InFlight", "Mismatch", "Proceed", "Replay", "SqlIdempotency"]

LOCK_SECONDS = 60
I = tables.idempotency_keys  # noqa: E741


@dataclass(frozen=True, slots=True)
class Proceed:
    pass


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class Mismatch:
    pass


@dataclass(frozen=True, slots=True)
class InFlight:
    pass


Begin = Proceed | Replay | Mismatch | InFlight


class SqlIdempotency:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def begin(self, tenant: str, key: str, request_hash: str, now: datetime) -> Begin:
        try:
            with self.engine.begin() as conn:
                return self._begin(conn, tenant, key, request_hash, now)
        except IntegrityError:  # another request inserted the key a moment ago
            return InFlight()

    def _begin(self, conn: Connection, tenant: str, key: str, request_hash: str,
               now: datetime) -> Begin:
        row = conn.execute(select(I).where(I.c.tenant == tenant, I.c.key == key)).first()
        lock = now + timedelta(seconds=LOCK_SECONDS)
        if row is None:
            conn.execute(insert(I).values(tenant=tenant, key=key, request_hash=request_hash,
                                          status="in_flight", created_at=now, locked_until=lock))
            return Proceed()
        if row.request_hash != request_hash:
            return Mismatch()
        if row.status == "done":
            return Replay(row.response_status, row.response_body)
        if row.locked_until > now:
            return InFlight()
        conn.execute(update(I).where(I.c.tenant == tenant, I.c.key == key)
                     .values(locked_until=lock))
        return Proceed()

    def finish(self, conn: Connection, tenant: str, key: str, status: int, body: bytes) -> None:
        conn.execute(update(I).where(I.c.tenant == tenant, I.c.key == key)
                     .values(status="done", response_status=status, response_body=body))

    def release(self, tenant: str, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(I).where(I.c.tenant == tenant, I.c.key == key,
                                         I.c.status == "in_flight"))

    def purge(self, now: datetime, ttl: timedelta) -> int:
        with self.engine.begin() as conn:
            return conn.execute(delete(I).where(I.c.created_at < now - ttl)).rowcount
