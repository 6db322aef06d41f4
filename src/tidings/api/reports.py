"""Metrics and reports of the caller's tenant.

``GET /v1/metrics`` (JSON) and ``GET /v1/metrics.csv``: counts and rates per
``group_by`` (comma list of business_unit, message_type, template, channel,
provider, day) for messages queued in ``[start, end)`` (UTC dates, default the
last 7 days), optionally filtered to one business unit, message type,
template, channel or provider. ``GET /v1/metrics/failures``: the commonest
failure reasons. ``POST /v1/reports/{name}/send``: queue a configured report now.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tidings.api.deps import RuntimeDep, TenantDep
from tidings.api.problems import Problem
from tidings.reports import csv_export, scheduled
from tidings.reports.metrics import COUNTS, RATES, failure_reasons, metrics
from tidings.reports.metrics import Query as MetricsQuery

__all__ = ["router"]

router = APIRouter()
DEFAULT_DAYS = 7
MAX_DAYS = 400


def _query(runtime: RuntimeDep, tenant: str, start: date | None, end: date | None,
           group_by: str, filters: dict[str, str | None]) -> MetricsQuery:
    today = runtime.clock.now().astimezone(UTC).date()
    end = end or today + timedelta(days=1)
    start = start or end - timedelta(days=DEFAULT_DAYS)
    if not start < end or (end - start).days > MAX_DAYS:
        raise Problem(422, "invalid-request", "The period is not valid.",
                      f"start must be before end, at most {MAX_DAYS} days apart")
    dims = tuple(d.strip() for d in group_by.split(",") if d.strip())
    try:
        return MetricsQuery(datetime.combine(start, time(0), UTC),
                            datetime.combine(end, time(0), UTC), tenant,
                            tuple(d for d in dims if d != "tenant"),
                            {k: v for k, v in filters.items() if v is not None})
    except ValueError as exc:
        raise Problem(422, "invalid-request", "The request is not valid.", str(exc)) from exc


def _filters(business_unit: str | None, message_type: str | None, template: str | None,
             channel: str | None, provider: str | None) -> dict[str, str | None]:
    return {"business_unit": business_unit, "message_type": message_type,
            "template": template, "channel": channel, "provider": provider}


@router.get("/v1/metrics", summary="Delivery and engagement figures")
async def get_metrics(runtime: RuntimeDep, tenant: TenantDep, start: date | None = None,
                      end: date | None = None, group_by: str = "day",
                      business_unit: str | None = None, message_type: str | None = None,
                      template: str | None = None, channel: str | None = None,
                      provider: str | None = None) -> dict[str, Any]:
    query = _query(runtime, tenant, start, end, group_by,
                   _filters(business_unit, message_type, template, channel, provider))
    rows = await run_in_threadpool(metrics, runtime.engine, query)
    return {"start": query.start.date().isoformat(), "end": query.end.date().isoformat(),
            "group_by": list(query.group_by), "rows": rows}


@router.get("/v1/metrics.csv", summary="The same figures as CSV",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def get_metrics_csv(runtime: RuntimeDep, tenant: TenantDep, start: date | None = None,
                          end: date | None = None, group_by: str = "day",
                          business_unit: str | None = None, message_type: str | None = None,
                          template: str | None = None, channel: str | None = None,
                          provider: str | None = None) -> Response:
    query = _query(runtime, tenant, start, end, group_by,
                   _filters(business_unit, message_type, template, channel, provider))
    rows = await run_in_threadpool(metrics, runtime.engine, query)
    text = csv_export.to_csv(rows, (*query.group_by, *COUNTS, *RATES))
    name = f"metrics-{query.start.date()}-{query.end.date()}.csv"
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/v1/metrics/failures", summary="Why messages failed, bounced or were suppressed")
async def get_failures(runtime: RuntimeDep, tenant: TenantDep, start: date | None = None,
                       end: date | None = None, group_by: str = "",
                       business_unit: str | None = None,
                       limit: int = Query(default=20, ge=1, le=500)) -> dict[str, Any]:
    query = _query(runtime, tenant, start, end, group_by,
                   _filters(business_unit, None, None, None, None))
    rows = await run_in_threadpool(failure_reasons, runtime.engine, query, limit)
    return {"reasons": rows}


@router.post("/v1/reports/{name}/send", status_code=202, summary="Queue a report now")
async def send_report(name: str, runtime: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    report = next((r for r in runtime.project.config.feedback.reports
                   if r.name == name and r.tenant == tenant), None)
    if report is None:
        raise Problem(404, "not-found", "No such report.", f"No report {name!r}.")
    ids = await run_in_threadpool(scheduled.send_now, runtime.engine, runtime.outbox,
                                  runtime.project.config, report, runtime.clock.now(),
                                  runtime.feedback.outgoing.return_path_header())
    runtime.wake.set()
    return {"report": name, "messages": ids}
