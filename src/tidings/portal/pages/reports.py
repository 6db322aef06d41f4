"""Business units' reports: deliveries, bounces, opens and clicks per message type and template.

Figures come from ``reports.metrics`` (the reports stage's one query per call), narrowed to
the user's business unit; an operator may pick any business unit of its tenant or all of
them. The scheduled report emails of that business unit (``[[feedback.reports]]`` in the
project) are listed with their next sends.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tidings.portal import auth, charts, views
from tidings.portal.accounts import Role, User
from tidings.reports import metrics

__all__ = ["PERIODS", "next_sends", "router"]

router = APIRouter(prefix="/portal/reports")
Readers = Depends(auth.roles(Role.BUSINESS_UNIT, Role.OPERATOR))
PERIODS = (7, 30, 90)
NEXT_SENDS = 3
MAX_CATEGORIES = 12
COLOURS = {"sent": "#1f4fbf", "delivered": "#17803d", "bounced": "#b91c1c",
           "opened": "#0e7490", "clicked": "#7c3aed"}


def next_sends(cron: str, zone: str, now: datetime, n: int = NEXT_SENDS) -> list[datetime]:
    """The next ``n`` local times a report's cron fires."""
    it = croniter(cron, now.astimezone(ZoneInfo(zone)))
    return [it.get_next(datetime) for _ in range(n)]


def _period(params: dict[str, str], now: datetime) -> tuple[int, datetime, datetime]:
    try:
        days = int(params.get("days", "30"))
    except ValueError:
        days = 30
    days = days if days in PERIODS else 30
    end = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(), tzinfo=UTC)
    return days, end - timedelta(days=days), end


def _unit(params: dict[str, str], user: User, units: list[str]) -> str | None:
    if user.role is Role.BUSINESS_UNIT:
        return user.party
    chosen = params.get("business_unit") or None
    return chosen if chosen in units else None


def _figures(engine: Any, tenant: str, unit: str | None, start: datetime,
             end: datetime) -> dict[str, list[dict[str, Any]]]:
    filters = {"business_unit": unit} if unit else {}
    def run(*group: str) -> list[dict[str, Any]]:
        return metrics.metrics(engine, metrics.Query(start, end, tenant, group, filters))
    return {"detail": run("message_type", "template"), "by_type": run("message_type"),
            "by_day": run("day")}


def _charts(figures: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    by_type = figures["by_type"][:MAX_CATEGORIES]
    names = [str(r["message_type"] or "(none)") for r in by_type]
    outcome = [("delivered", [r["delivered"] for r in by_type]),
               ("bounced", [r["bounced_hard"] + r["bounced_soft"] for r in by_type]),
               ("opened", [r["opened_human"] for r in by_type]),
               ("clicked", [r["clicked_human"] for r in by_type])]
    by_day = figures["by_day"]
    volume = [("sent", [r["sent"] for r in by_day]),
              ("delivered", [r["delivered"] for r in by_day]),
              ("bounced", [r["bounced_hard"] + r["bounced_soft"] for r in by_day])]
    days = [str(r["day"])[5:] for r in by_day]
    return {"outcome": charts.bars("Deliveries, bounces, opens and clicks per message type",
                                   names, outcome, colours=COLOURS),
            "outcome_legend": charts.legend([n for n, _ in outcome], COLOURS),
            "volume": charts.bars("Messages per day", days, volume, colours=COLOURS),
            "volume_legend": charts.legend([n for n, _ in volume], COLOURS)}


@router.get("")
async def index(request: Request, portal: auth.PortalDep, user: User = Readers) -> Response:
    params = dict(request.query_params)
    config = portal.runtime.project.config
    tenant = next((t for t in config.tenants if t.id == user.tenant), None)
    units = list(tenant.business_units) if tenant else []
    unit = _unit(params, user, units)
    now = portal.runtime.clock.now()
    days, start, end = _period(params, now)
    figures = await run_in_threadpool(_figures, portal.runtime.engine, user.tenant, unit,
                                      start, end)
    scheduled = [r for r in config.feedback.reports if r.tenant == user.tenant and
                 (user.role is Role.OPERATOR or r.business_unit == unit)]
    return views.page(request, portal, "reports.html", {
        "title": "Reports", "unit": unit, "units": units, "days": days,
        "periods": [(str(n), f"last {n} days") for n in PERIODS],
        "start": start, "end": end - timedelta(days=1), "detail": figures["detail"],
        "total": metrics.totals(figures["by_type"]) if figures["by_type"] else None,
        "scheduled": [(r, next_sends(r.cron, r.timezone, now)) for r in scheduled],
        **(_charts(figures) if figures["by_type"] else {})})
