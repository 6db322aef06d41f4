"""Delivery and engagement figures, grouped as the business asks.

Groups: any of ``tenant, business_unit, message_type, template, channel,
provider, day`` (the UTC day the message was queued). Counts per group:

| count          | a message counts when                                         |
|----------------|---------------------------------------------------------------|
| queued         | it was created in the period                                  |
| sent           | a provider accepted it (``sent_at`` set)                      |
| delivered      | its best feedback is delivered or complained, or its state is delivered |
| bounced_hard   | its best feedback is a hard bounce                            |
| bounced_soft   | its best feedback is a soft bounce                            |
| rejected       | the provider refused to send it after accepting it (SES Reject) |
| complained     | its recipient marked it as spam                               |
| failed, suppressed, expired | its state says so                                |
| pending        | it is still queued, active, deferred or held                  |
| reached        | sent, and not hard-bounced or rejected (engagement's base)    |
| opened / clicked | at least one open / click (unique per message)              |
| opened_human / clicked_human | at least one open / click a person made         |

Rates: delivery = delivered / sent, bounce = (hard + soft) / sent, complaint =
complained / reached, open = opened_human / reached, click = clicked_human
/ reached, click_to_open = clicked_human / opened_human; None when the
denominator is 0. Engagement is over ``reached``, not ``delivered``: SMTP
servers and most providers never report a delivery. One SQL query per call,
both on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, case, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from tidings.storage import tables
from tidings.storage.tables_feedback import message_feedback

__all__ = ["COUNTS", "DIMENSIONS", "RATES", "Query", "failure_reasons", "metrics", "totals"]

M = tables.messages
F = message_feedback
DIMENSIONS = ("tenant", "business_unit", "message_type", "template", "channel", "provider",
              "day")
COUNTS = ("queued", "sent", "delivered", "bounced_hard", "bounced_soft", "rejected",
          "complained", "failed", "suppressed", "expired", "pending", "reached", "opened",
          "opened_human",
          "clicked", "clicked_human")
RATES: dict[str, tuple[tuple[str, ...], str]] = {
    "delivery_rate": (("delivered",), "sent"),
    "bounce_rate": (("bounced_hard", "bounced_soft"), "sent"),
    "complaint_rate": (("complained",), "reached"),
    "open_rate": (("opened_human",), "reached"),
    "click_rate": (("clicked_human",), "reached"),
    "click_to_open_rate": (("clicked_human",), "opened_human"),
}
RATE_DIGITS = 4
REASON_CHARS = 120


@dataclass(frozen=True, slots=True)
class Query:
    start: datetime
    end: datetime
    tenant: str | None = None
    group_by: tuple[str, ...] = ("day",)
    filters: dict[str, str] = field(default_factory=dict)
    """Dimension -> value, e.g. ``{"business_unit": "web-shop"}`` (not ``day``)."""

    def __post_init__(self) -> None:
        unknown = [d for d in (*self.group_by, *self.filters) if d not in DIMENSIONS]
        if unknown:
            raise ValueError(f"unknown dimension(s) {', '.join(unknown)}; "
                             f"choose from {', '.join(DIMENSIONS)}")
        if "day" in self.filters:
            raise ValueError("filter days with start and end")


def _day(engine: Engine) -> ColumnElement[Any]:
    if engine.dialect.name == "postgresql":
        return func.to_char(M.c.created_at, "YYYY-MM-DD")
    return func.substr(M.c.created_at, 1, 10)


def _dimension(engine: Engine, name: str) -> ColumnElement[Any]:
    return _day(engine) if name == "day" else M.c[name]


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def _measures() -> list[ColumnElement[Any]]:
    status, state = F.c.status, M.c.state
    opened = (func.coalesce(F.c.human_opens, 0) + func.coalesce(F.c.machine_opens, 0)) > 0
    clicked = (func.coalesce(F.c.human_clicks, 0) + func.coalesce(F.c.machine_clicks, 0)) > 0
    return [
        func.count().label("queued"),
        _count(M.c.sent_at.is_not(None)).label("sent"),
        _count(or_(status.in_(["delivered", "complained"]), state == "delivered"))
        .label("delivered"),
        _count(status == "hard_bounce").label("bounced_hard"),
        _count(status == "soft_bounce").label("bounced_soft"),
        _count(status == "rejected").label("rejected"),
        _count(status == "complained").label("complained"),
        _count(state == "failed").label("failed"),
        _count(state == "suppressed").label("suppressed"),
        _count(state == "expired").label("expired"),
        _count(state.in_(["queued", "active", "deferred", "held"])).label("pending"),
        _count(and_(M.c.sent_at.is_not(None),
                    or_(status.is_(None), status.not_in(["hard_bounce", "rejected"]))))
        .label("reached"),
        _count(opened).label("opened"),
        _count(func.coalesce(F.c.human_opens, 0) > 0).label("opened_human"),
        _count(clicked).label("clicked"),
        _count(func.coalesce(F.c.human_clicks, 0) > 0).label("clicked_human"),
    ]


def _where(engine: Engine, query: Query) -> ColumnElement[bool]:
    conditions = [M.c.created_at >= query.start, M.c.created_at < query.end]
    if query.tenant is not None:
        conditions.append(M.c.tenant == query.tenant)
    conditions += [_dimension(engine, d) == v for d, v in sorted(query.filters.items())]
    return and_(*conditions)


def rates(row: dict[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name, (parts, base) in RATES.items():
        denominator = row[base]
        out[name] = round(sum(row[p] for p in parts) / denominator, RATE_DIGITS) \
            if denominator else None
    return out


def metrics(engine: Engine, query: Query) -> list[dict[str, Any]]:
    """One row per group: its dimensions, the counts and the rates."""
    dims = [_dimension(engine, d).label(d) for d in query.group_by]
    stmt = (select(*dims, *_measures())
            .select_from(M.outerjoin(F, F.c.message_id == M.c.id))
            .where(_where(engine, query)))
    if dims:
        stmt = stmt.group_by(*dims).order_by(*dims)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(stmt)]
    out = []
    for row in rows:
        counts = {c: int(row.get(c) or 0) for c in COUNTS}
        if not dims and not counts["queued"]:
            continue
        out.append({**{d: row[d] for d in query.group_by}, **counts, **rates(counts)})
    return out


def totals(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The counts of many rows summed, with their rates."""
    counts = {c: sum(int(r[c]) for r in rows) for c in COUNTS}
    return {**counts, **rates(counts)}


def failure_reasons(engine: Engine, query: Query, limit: int = 20) -> list[dict[str, Any]]:
    """The commonest reasons why messages failed, bounced, were suppressed or expired."""
    bad = or_(M.c.state.in_(["failed", "suppressed", "expired", "bounced"]),
              F.c.status.in_(["hard_bounce", "soft_bounce", "rejected", "complained"]))
    outcome = func.coalesce(F.c.status, M.c.state)
    reason = func.substr(func.coalesce(F.c.status_reason, M.c.last_error, literal("")), 1,
                         REASON_CHARS)
    dims = [_dimension(engine, d).label(d) for d in query.group_by]
    stmt = (select(*dims, outcome.label("outcome"), reason.label("reason"),
                   func.count().label("messages"))
            .select_from(M.outerjoin(F, F.c.message_id == M.c.id))
            .where(_where(engine, query), bad)
            .group_by(*dims, outcome, reason)
            .order_by(func.count().desc(), outcome, reason).limit(limit))
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]
