"""Delivery control: what a dispatcher consults around every provider call.

- ``catalog``: the operator's objects (provider settings, status tables,
  failover chains, channel kinds), reloaded when their version moves on;
  ``None`` keeps the dispatcher on the fixed policies it was made with.
- ``limiter``: the shared token buckets of rate-limited providers.
- ``extras``: the columns of claimed messages the envelope and failover need.
- ``reroute``: writes failover moves under the worker's lease.
- ``envelopes``: DKIM keys and unsubscribe links for email.

``DeliveryControl()`` with no arguments is the fixed control: no catalog, no
limits, no failover, plain MIME.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tidings.channels.catalog import Catalog
from tidings.channels.rate_limits import NoLimit, RateLimiter
from tidings.dispatch.envelopes import DEFAULT_OPTIONS, EnvelopeOptions
from tidings.dispatch.extras import MessageExtras
from tidings.dispatch.failover import Reroute

__all__ = ["DeliveryControl"]

ExtrasReader = Callable[[Sequence[int]], Mapping[int, MessageExtras]]
RerouteWriter = Callable[[str, Sequence[Reroute], datetime], int]


def _no_extras(ids: Sequence[int]) -> Mapping[int, MessageExtras]:
    return {}


def _no_reroute(worker: str, moves: Sequence[Reroute], now: datetime) -> int:
    raise RuntimeError("failover needs a catalog and a reroute writer")


@dataclass(frozen=True)
class DeliveryControl:
    catalog: Callable[[], Catalog] | None = None
    limiter: RateLimiter = field(default_factory=NoLimit)
    extras: ExtrasReader = _no_extras
    reroute: RerouteWriter = _no_reroute
    envelopes: EnvelopeOptions = DEFAULT_OPTIONS
