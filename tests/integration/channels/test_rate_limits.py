"""Token buckets shared by workers: in the database (both) and in Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from tests.conftest import require_service
from tidings.channels.rate_limits import RateLimiter, RedisRateLimiter
from tidings.clock import FakeClock
from tidings.storage import engine as engines
from tidings.storage.channels_sql import SqlRateLimiter

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_limiter() -> RedisRateLimiter:
    require_service("Redis", "127.0.0.1", 6379)
    return RedisRateLimiter.from_url(REDIS_URL)


@pytest.fixture
def sql_engine(db_url: str) -> Iterator[Engine]:
    engine = engines.create(db_url)
    yield engine
    engine.dispose()


def test_database_bucket(sql_engine: Engine, clock: FakeClock) -> None:
    exercise(SqlRateLimiter(sql_engine), clock)


def test_redis_bucket(redis_limiter: RedisRateLimiter, clock: FakeClock) -> None:
    exercise(redis_limiter, clock)


def test_database_workers_share_one_bucket(sql_engine: Engine, clock: FakeClock) -> None:
    share(SqlRateLimiter(sql_engine), SqlRateLimiter(sql_engine), clock)


def test_redis_workers_share_one_bucket(redis_limiter: RedisRateLimiter,
                                        clock: FakeClock) -> None:
    share(redis_limiter, RedisRateLimiter.from_url(REDIS_URL), clock)


def exercise(limiter: RateLimiter, clock: FakeClock) -> None:
    p = f"p-{uuid.uuid4().hex[:8]}"          # Redis keeps keys between tests
    rate, burst = 10.0, 10.0
    assert limiter.acquire(p, rate, burst, 4, clock.now()).granted == 4     # a full bucket
    assert limiter.acquire(p, rate, burst, 100, clock.now()).granted == 6   # the rest
    empty = limiter.acquire(p, rate, burst, 5, clock.now())
    assert empty.granted == 0 and empty.wait_seconds == pytest.approx(0.1)
    clock.advance(0.35)
    assert limiter.acquire(p, rate, burst, 5, clock.now()).granted == 3     # 3.5 tokens
    limiter.refund(p, 2, burst)                                             # claim found 1
    assert limiter.acquire(p, rate, burst, 5, clock.now()).granted == 2
    clock.advance(60)
    assert limiter.acquire(p, rate, burst, 50, clock.now()).granted == 10   # capped at burst
    limiter.block(p, clock.now() + timedelta(seconds=17), clock.now())
    clock.advance(10)
    blocked = limiter.acquire(p, rate, burst, 5, clock.now())
    assert blocked.granted == 0 and blocked.wait_seconds == pytest.approx(7.0)
    clock.advance(7)
    assert limiter.acquire(p, rate, burst, 5, clock.now()).granted == 1     # resumes gently


def share(limiter: RateLimiter, other: RateLimiter, clock: FakeClock) -> None:
    p = f"p-{uuid.uuid4().hex[:8]}"
    granted = 0
    for _ in range(50):                       # 5 s of two workers taking turns, 4 per second
        granted += limiter.acquire(p, 4.0, 4.0, 3, clock.now()).granted
        granted += other.acquire(p, 4.0, 4.0, 3, clock.now()).granted
        clock.advance(0.1)
    assert granted in (23, 24)                # burst 4 + 4/s x 4.9 s, tokens taken whole
