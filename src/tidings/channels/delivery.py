"""The delivery control of one process, put together from what the runtime hands in.

The rate limiter is Redis's when a Redis URL is given, else the database's;
DKIM keys come from the tenants of the project; unsubscribe links are signed
with the process's secret key and point at its public URL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from tidings.channels import dkim_keys
from tidings.channels.rate_limits import RateLimiter, RedisRateLimiter
from tidings.channels.service import ChannelService
from tidings.channels.unsubscribe import UnsubscribeLinks
from tidings.dispatch.control import DeliveryControl
from tidings.dispatch.envelopes import EnvelopeOptions
from tidings.dispatch.extras import MessageExtras
from tidings.dispatch.failover import Reroute
from tidings.project.model import ProjectConfig
from tidings.storage import channels_sql
from tidings.storage.outbox_sql import SqlOutbox

__all__ = ["build", "limiter"]


def limiter(engine: Engine, redis_url: str | None) -> RateLimiter:
    if redis_url:
        return RedisRateLimiter.from_url(redis_url)
    return channels_sql.SqlRateLimiter(engine)


def build(service: ChannelService, outbox: SqlOutbox, project: ProjectConfig, root: Path, *,
          redis_url: str | None, secret: str, public_url: str,
          environ: Mapping[str, str]) -> DeliveryControl:
    engine = outbox.engine

    def extras(ids: Sequence[int]) -> Mapping[int, MessageExtras]:
        return channels_sql.message_extras(engine, ids)

    def reroute(worker: str, moves: Sequence[Reroute], now: datetime) -> int:
        return channels_sql.reroute(outbox, worker, moves, now)

    subscribed = frozenset((r.tenant, r.name) for r in project.rules if r.list_unsubscribe)
    options = EnvelopeOptions(dkim=dkim_keys.registries(project.tenants, root, environ),
                              unsubscribe=UnsubscribeLinks(secret, public_url),
                              subscribed_rules=subscribed)
    return DeliveryControl(catalog=service.catalog, limiter=limiter(engine, redis_url),
                           extras=extras, reroute=reroute, envelopes=options)
