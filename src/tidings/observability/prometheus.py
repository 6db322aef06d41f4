"""``GET /metrics``: the queue and the providers, as Prometheus sees them.

| metric                                   | type      | labels          |
|------------------------------------------|-----------|-----------------|
| tidings_queue_messages                   | gauge     | state, provider |
| tidings_queue_oldest_age_seconds         | gauge     | provider        |
| tidings_send_latency_seconds             | histogram | provider        |
| tidings_provider_errors_total            | counter   | provider, code  |
| tidings_feedback_events_total            | counter   | kind            |

Gauges are one ``GROUP BY`` at scrape time. The histogram and the counters
follow ``message_events`` from where the previous scrape stopped (at most
``FOLLOW_BATCH`` rows per scrape; the rest next time): a dispatcher's verdict
(``active`` -> sent, bounced, failed, deferred) adds the time since the
message was queued, and an error's code (the status table's, an SMTP reply
code, or the stage that failed); feedback, open and click rows count by kind.
A new process starts following at the newest row, as counters start at zero.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from tidings.clock import Clock
from tidings.feedback.notices import Kind
from tidings.storage import tables

__all__ = ["CONTENT_TYPE", "OpsMetrics", "error_code", "router"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FOLLOW_BATCH = 50_000
WAITING = ("queued", "active", "deferred", "held")
LATENCY_BUCKETS_SECONDS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400)
M = tables.messages
E = tables.message_events
_STATUS_TABLE_CODE = re.compile(r"\[([^\]:\s]+):[^\]]*\]\s*$")
_SMTP_CODE = re.compile(r"\b([245]\d\d)(?:[ -]([245]\.\d{1,3}\.\d{1,3}))?\b")
_STAGE = re.compile(r"^\s*([a-z][a-z_ -]{1,20}):")
_FEEDBACK_KINDS = frozenset(k.value for k in Kind)


def error_code(text: str | None) -> str:
    """A short code for an error: the status table's, an SMTP code, or its stage."""
    text = text or ""
    for pattern in (_STATUS_TABLE_CODE, _SMTP_CODE, _STAGE):
        match = pattern.search(text)
        if match:
            return (match.group(2) if pattern is _SMTP_CODE and match.group(2)
                    else match.group(1)).strip()[:32]
    return "unknown"


class _QueueCollector(Collector):
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine, self.clock = engine, clock

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("tidings_queue_messages",
                                  "Messages waiting, by state and provider",
                                  labels=["state", "provider"])
        oldest = GaugeMetricFamily("tidings_queue_oldest_age_seconds",
                                   "Age of the oldest queued or deferred message",
                                   labels=["provider"])
        now = self.clock.now()
        with self.engine.connect() as conn:
            for state, provider, count, first in conn.execute(
                    select(M.c.state, M.c.provider, func.count(), func.min(M.c.created_at))
                    .where(M.c.state.in_(WAITING)).group_by(M.c.state, M.c.provider)):
                depth.add_metric([state, provider], count)
                if state in ("queued", "deferred") and first is not None:
                    oldest.add_metric([provider], max(0.0, (now - _aware(first))
                                                      .total_seconds()))
        yield depth
        yield oldest


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class OpsMetrics:
    """One registry per runtime: the scrape-time collector and the event follower."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_QueueCollector(engine, clock))
        self.latency = Histogram("tidings_send_latency_seconds",
                                 "Time from queued to the provider's answer",
                                 ["provider"], buckets=LATENCY_BUCKETS_SECONDS,
                                 registry=self.registry)
        self.errors = Counter("tidings_provider_errors", "Provider errors by code",
                              ["provider", "code"], registry=self.registry)
        self.feedback = Counter("tidings_feedback_events", "Feedback, opens and clicks",
                                ["kind"], registry=self.registry)
        self._lock = threading.Lock()
        self._last_id: int | None = None

    def follow(self) -> int:
        """Read the events since the last call into the histogram and counters."""
        with self._lock, self.engine.connect() as conn:
            if self._last_id is None:
                self._last_id = conn.execute(select(func.max(E.c.id))).scalar() or 0
                return 0
            rows = conn.execute(
                select(E.c.id, E.c.kind, E.c.from_state, E.c.to_state, E.c.reason,
                       E.c.response, E.c.at, M.c.provider, M.c.created_at)
                .join(M, M.c.id == E.c.message_id)
                .where(E.c.id > self._last_id).order_by(E.c.id).limit(FOLLOW_BATCH)).all()
            for row in rows:
                self._observe(row)
            if rows:
                self._last_id = rows[-1].id
        return len(rows)

    def _observe(self, row: Any) -> None:
        if row.kind in ("open", "click"):
            self.feedback.labels(row.kind).inc()
            return
        if row.kind == "feedback":
            kind = (row.reason or "").split(":")[0]
            self.feedback.labels(kind if kind in _FEEDBACK_KINDS else "other").inc()
            return
        if row.kind != "transition":
            return
        if row.from_state != "active" or row.to_state in ("queued", "active"):
            return
        if row.to_state in ("sent", "bounced", "failed", "suppressed"):
            seconds = (_aware(row.at) - _aware(row.created_at)).total_seconds()
            self.latency.labels(row.provider).observe(max(0.0, seconds))
        if row.to_state in ("deferred", "failed", "bounced"):
            self.errors.labels(row.provider, error_code(row.response or row.reason)).inc()

    def render(self) -> bytes:
        self.follow()
        return bytes(generate_latest(self.registry))


_BY_RUNTIME: weakref.WeakKeyDictionary[Any, OpsMetrics] = weakref.WeakKeyDictionary()
_BY_RUNTIME_LOCK = threading.Lock()


def metrics_of(runtime: Any) -> OpsMetrics:
    with _BY_RUNTIME_LOCK:
        found = _BY_RUNTIME.get(runtime)
        if found is None:
            found = _BY_RUNTIME[runtime] = OpsMetrics(runtime.engine, runtime.clock)
            found.follow()  # start at the newest event
        return found


router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def prometheus_metrics(request: Request) -> Response:
    ops = metrics_of(request.app.state.runtime)
    body = await run_in_threadpool(ops.render)
    return Response(body, media_type=CONTENT_TYPE)
