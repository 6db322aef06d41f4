"""Order exceptions for retailers, suppliers and operators; each order's timeline.

Every read goes through ``SlaService`` with the signed-in user's ``Viewer``: a retailer sees
its own orders, a supplier its own across all its retailers, an operator the whole tenant.
An order or exception outside that scope raises ``parties.NotFound``, which the page answers
with a 404 (also when the id is typed into the address bar). Filters are the service's own
(``ExceptionQuery``); a filter it refuses is reported on the page and left out.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from tidings.portal import auth, views
from tidings.portal.accounts import Role, User
from tidings.sla import exceptions as sla_exceptions
from tidings.sla import parties
from tidings.sla.rules import Obligation

__all__ = ["AGES", "query_of", "router"]

router = APIRouter(prefix="/portal")
Parties = Depends(auth.roles(Role.RETAILER, Role.SUPPLIER, Role.OPERATOR))
PAGE_SIZE = 25
# (value, label, min_age_hours): how long past its deadline an exception is.
AGES = (("", "any age", None), ("4h", "over 4 hours", 4.0), ("24h", "over 1 day", 24.0),
        ("72h", "over 3 days", 72.0), ("168h", "over 1 week", 168.0))
SORTS = (("lateness", "latest first"), ("-lateness", "least late first"),
         ("due_at", "due date, oldest first"), ("-due_at", "due date, newest first"))


def query_of(params: dict[str, str], user: User, limit: int = PAGE_SIZE
             ) -> tuple[sla_exceptions.ExceptionQuery, list[tuple[str, str]]]:
    """The service's query from the page's parameters; refused filters are dropped and named."""
    age = dict((value, hours) for value, _, hours in AGES).get(params.get("age", ""))
    fields: dict[str, Any] = {
        "retailer": params.get("retailer") or None, "supplier": params.get("supplier") or None,
        "obligation": params.get("obligation") or None,
        "kind": params.get("kind") or "overdue", "status": params.get("status") or "open",
        "min_age_hours": age, "order_ref": (params.get("order_ref") or "").strip() or None,
        "sort": params.get("sort") or "lateness", "limit": limit,
        "offset": _int(params.get("offset"))}
    if user.role is Role.RETAILER:
        fields["retailer"] = None  # its own, by its scope
    if user.role is Role.SUPPLIER:
        fields["supplier"] = None
    errors: list[tuple[str, str]] = []
    while True:
        try:
            return sla_exceptions.ExceptionQuery(**fields), errors
        except sla_exceptions.QueryError as exc:
            errors.append((exc.field, exc.detail))
            fields[exc.field] = sla_exceptions.ExceptionQuery.__dataclass_fields__[
                exc.field].default


def _int(value: str | None) -> int:
    try:
        return max(int(value or 0), 0)
    except ValueError:
        return 0


@router.get("/exceptions")
async def index(request: Request, portal: auth.PortalDep, user: User = Parties) -> Response:
    params = dict(request.query_params)
    query, errors = query_of(params, user)
    service = portal.runtime.sla.service
    page = await run_in_threadpool(service.exceptions, user.viewer(), query)
    return views.page(request, portal, "exceptions/index.html", {
        "title": "Order exceptions", "rows": page.items, "next_offset": page.next_offset,
        "query": query, "params": params, "errors": errors, "sorts": SORTS,
        "ages": [(value, label) for value, label, hours in AGES if hours is not None],
        "obligations": [o.value for o in Obligation],
        "statuses": sorted(sla_exceptions.STATUSES), "kinds": sorted(sla_exceptions.KINDS),
        "filtered": any(params.get(k) for k in ("retailer", "supplier", "obligation", "age",
                                                "order_ref", "kind", "status")),
        "csv": "/portal/exceptions.csv" + views.query_with(request, offset=None)})


@router.get("/exceptions.csv")
async def export(request: Request, portal: auth.PortalDep, user: User = Parties) -> Response:
    query, _ = query_of(dict(request.query_params), user, sla_exceptions.MAX_EXPORT_ROWS)
    export_query = sla_exceptions.ExceptionQuery(**{**query.__dict__, "offset": 0})
    service = portal.runtime.sla.service
    lines = await run_in_threadpool(lambda: list(service.export(user.viewer(), export_query)))
    name = f"exceptions-{user.party or user.tenant}.csv"
    return StreamingResponse(iter(lines), media_type="text/csv; charset=utf-8",
                             headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/orders/{order_id:int}")
async def order(request: Request, order_id: int, portal: auth.PortalDep,
                user: User = Parties) -> Response:
    service = portal.runtime.sla.service
    try:
        found = await run_in_threadpool(service.order, user.viewer(), order_id)
    except parties.NotFound as exc:
        raise auth.PageNotFound() from exc
    return views.page(request, portal, "exceptions/order.html", {
        "title": f"Order {found['order_ref']}", "order": found,
        "back": request.headers.get("referer", "") if "/portal/exceptions" in
        request.headers.get("referer", "") else "/portal/exceptions"})
