"""Supplier performance: on-time share and average delay per obligation, party and week.

The rows come from ``SlaService.performance`` (one per supplier, retailer, obligation and
ISO week, scoped to the user). The page rolls them up for its charts: on-time share per week
and obligation (lines), and per trading partner (bars); the table shows the rows themselves.
A roll-up weighs each row by its decided obligations and each delay by the obligations met
late, so it equals what one query over the union would give.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tidings.portal import auth, charts, views
from tidings.portal.accounts import Role, User
from tidings.sla import performance as sla_performance
from tidings.sla.rules import Obligation

__all__ = ["rollup", "router"]

router = APIRouter(prefix="/portal/performance")
Parties = Depends(auth.roles(Role.RETAILER, Role.SUPPLIER, Role.OPERATOR))
MAX_PARTNERS = 12


def rollup(rows: Iterable[dict[str, Any]],
           key: Callable[[dict[str, Any]], Any]) -> dict[Any, dict[str, Any]]:
    """Figures per ``key(row)``: decided, on time, late, open overdue, on-time %, avg delay."""
    sums: dict[Any, dict[str, float]] = {}
    for row in rows:
        acc = sums.setdefault(key(row), {"decided": 0, "on_time": 0, "late": 0,
                                         "open_overdue": 0, "met_late": 0, "delay_h": 0.0})
        met_late = row["late"] - row["open_overdue"]
        for name in ("decided", "on_time", "late", "open_overdue"):
            acc[name] += row[name]
        acc["met_late"] += met_late
        acc["delay_h"] += (row["avg_delay_hours"] or 0.0) * met_late
    return {k: {**{n: int(v[n]) for n in ("decided", "on_time", "late", "open_overdue")},
                "on_time_pct": round(100.0 * v["on_time"] / v["decided"], 1)
                if v["decided"] else None,
                "avg_delay_hours": round(v["delay_h"] / v["met_late"], 2)
                if v["met_late"] else None} for k, v in sums.items()}


def _query(params: dict[str, str], user: User
           ) -> tuple[sla_performance.PerformanceQuery, list[tuple[str, str]]]:
    fields: dict[str, Any] = {name: (params.get(name) or "").strip() or None for name in
                              ("retailer", "supplier", "obligation", "from_week", "to_week")}
    if user.role is Role.RETAILER:
        fields["retailer"] = None
    if user.role is Role.SUPPLIER:
        fields["supplier"] = None
    errors: list[tuple[str, str]] = []
    while True:
        try:
            return sla_performance.PerformanceQuery(**fields), errors
        except sla_performance.PerformanceQueryError as exc:
            errors.append((exc.field, exc.detail))
            fields[exc.field] = None


def _charts(rows: list[dict[str, Any]], user: User) -> dict[str, Any]:
    weeks = sorted({r["week"] for r in rows})
    obligations = sorted({r["obligation"] for r in rows})
    by_week = rollup(rows, lambda r: (r["obligation"], r["week"]))
    series = [(o.replace("_", " "), [by_week.get((o, w), {}).get("on_time_pct") for w in weeks])
              for o in obligations]
    partner = "supplier" if user.role is Role.RETAILER else "retailer"
    by_partner = rollup(rows, lambda r: r[partner])
    partners = sorted(by_partner, key=lambda p: -by_partner[p]["decided"])[:MAX_PARTNERS]
    delays = rollup(rows, lambda r: r["obligation"])
    return {
        "weekly": charts.lines("On-time share per week and obligation", weeks, series, "%", 100),
        "weekly_legend": charts.legend([name for name, _ in series]),
        "partners": charts.bars(f"On-time share per {partner}", partners,
                                [("on time", [by_partner[p]["on_time_pct"] for p in partners])],
                                "%", 100),
        "delays": charts.bars("Average delay of late obligations (hours)",
                              [o.replace("_", " ") for o in obligations],
                              [("average delay", [delays[o]["avg_delay_hours"]
                                                  for o in obligations])], " h"),
        "partner": partner, "totals": rollup(rows, lambda r: "all").get("all")}


@router.get("")
async def index(request: Request, portal: auth.PortalDep, user: User = Parties) -> Response:
    params = dict(request.query_params)
    query, errors = _query(params, user)
    rows = await run_in_threadpool(portal.runtime.sla.service.performance, user.viewer(), query)
    rows = sorted(rows, key=lambda r: (r["week"], r["retailer"], r["supplier"], r["obligation"]),
                  reverse=True)
    return views.page(request, portal, "performance.html", {
        "title": "Performance", "rows": rows, "params": params, "errors": errors,
        "obligations": [o.value for o in Obligation], "query": query,
        "filtered": any(params.get(k) for k in ("retailer", "supplier", "obligation",
                                                "from_week", "to_week")),
        **(_charts(rows, user) if rows else {})})
