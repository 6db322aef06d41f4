"""Rate limits per provider, shared by every worker of every process: token buckets.

A provider limited to ``rate`` messages per second owns one bucket holding at
most ``burst`` tokens (``rate * BURST_SECONDS``, at least one). Before a claim
the dispatcher takes up to its bulk size in tokens; what the claim leaves
unused goes back (``refund``). A 429 answer with ``Retry-After`` blocks the
bucket (``block``) so that no worker of any process calls the vendor again
before that moment; it then resumes with one token and refills at its rate.

Where the bucket lives:

- the database (default): one row per provider, updated under a row lock in
  the same transaction that reads it (``storage.channels_sql.SqlRateLimiter``);
- Redis when ``TIDINGS_REDIS_URL`` is set: one hash per provider, changed by a
  Lua script that Redis runs atomically (``RedisRateLimiter`` below). A small
  script was chosen over a rate-limit library because the dispatcher needs
  "take up to n now, and say how long until the next token", which the
  well-kept libraries (limits, redis-cell) do not offer without a module or
  one call per token.

Time is the caller's ``now`` (the injected clock), so the buckets refill at
the same pace in tests and in production; processes on several machines need
synchronised clocks (NTP), as leases already do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

__all__ = [
    "BURST_SECONDS", "Grant", "NoLimit", "RateLimiter", "RedisRateLimiter", "burst_for", "refill",
]

BURST_SECONDS = 1.0
"""A bucket holds one second of tokens: enough to cover a poll interval, small enough
that an idle provider cannot send more than one extra second's worth at once."""
REDIS_KEY_TTL_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Grant:
    granted: int
    wait_seconds: float
    """When nothing was granted: how long until a token (or the block) is due."""


class RateLimiter(Protocol):
    def acquire(self, provider: str, rate: float, burst: float, want: int,
                now: datetime) -> Grant: ...

    def refund(self, provider: str, count: int, burst: float) -> None: ...

    def block(self, provider: str, until: datetime, now: datetime) -> None: ...


def burst_for(rate: float) -> float:
    return max(1.0, rate * BURST_SECONDS)


def refill(tokens: float, refilled_at: datetime, rate: float, burst: float,
           now: datetime) -> float:
    """Tokens in a bucket at ``now``; a clock that went backwards adds nothing."""
    elapsed = max((now - refilled_at).total_seconds(), 0.0)
    return min(burst, tokens + elapsed * rate)


class NoLimit:
    """For providers without a rate limit: everything is granted, nothing is stored."""

    def acquire(self, provider: str, rate: float, burst: float, want: int,
                now: datetime) -> Grant:
        return Grant(want, 0.0)

    def refund(self, provider: str, count: int, burst: float) -> None:
        return None

    def block(self, provider: str, until: datetime, now: datetime) -> None:
        return None


# KEYS[1] bucket; ARGV: rate, burst, want, now (epoch seconds). Returns {granted, wait}.
_ACQUIRE = """
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'blocked')
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local want, now = tonumber(ARGV[3]), tonumber(ARGV[4])
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
local blocked = tonumber(b[3]) or 0
if now < blocked then return {0, tostring(blocked - now)} end
if now > at then tokens = math.min(burst, tokens + (now - at) * rate); at = now end
local granted = math.min(want, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at), 'blocked', '0')
redis.call('EXPIRE', KEYS[1], ARGV[5])
local wait = 0
if granted == 0 then wait = (1 - tokens) / rate end
return {granted, tostring(wait)}
"""
_REFUND = """
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens'))
if tokens then
  local refunded = math.min(tonumber(ARGV[2]), tokens + tonumber(ARGV[1]))
  redis.call('HSET', KEYS[1], 'tokens', tostring(refunded))
end
return 0
"""
_BLOCK = """
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked')) or 0
local till = tonumber(ARGV[1])
if till > blocked then
  redis.call('HSET', KEYS[1], 'blocked', ARGV[1], 'tokens', '1', 'at', ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class RedisRateLimiter:
    """Token buckets in Redis; each call is one atomic Lua script."""

    def __init__(self, client: Any, prefix: str = "tidings:rate:") -> None:
        self._prefix = prefix
        self._acquire = client.register_script(_ACQUIRE)
        self._refund = client.register_script(_REFUND)
        self._block = client.register_script(_BLOCK)

    @classmethod
    def from_url(cls, url: str) -> RedisRateLimiter:
        import redis  # only needed when Redis is configured

        return cls(redis.Redis.from_url(url))

    def acquire(self, provider: str, rate: float, burst: float, want: int,
                now: datetime) -> Grant:
        granted, wait = self._acquire(keys=[self._prefix + provider],
                                      args=[rate, burst, want, now.timestamp(),
                                            REDIS_KEY_TTL_SECONDS])
        return Grant(int(granted), float(wait))

    def refund(self, provider: str, count: int, burst: float) -> None:
        if count > 0:
            self._refund(keys=[self._prefix + provider], args=[count, burst])

    def block(self, provider: str, until: datetime, now: datetime) -> None:
        ttl = max(REDIS_KEY_TTL_SECONDS, math.ceil((until - now).total_seconds()) + 60)
        self._block(keys=[self._prefix + provider], args=[until.timestamp(), ttl])
