"""Orders, SLA exceptions, performance, rule books and digest subscriptions over HTTP.

Callers authenticate with a tenant key (``tdg_...``: the operator, who sees the whole tenant)
or a party key (``tdp_...``: one retailer or supplier). Every route hands the resulting
``Viewer`` to ``SlaService``, which applies its scope; anything outside it is a 404, the same
answer as for an id that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from tidings.api.deps import RuntimeDep
from tidings.api.problems import Problem
from tidings.sla import exceptions as sla_exceptions
from tidings.sla import parties, performance, rulebook, service, subscriptions

__all__ = ["router"]

router = APIRouter()
T = TypeVar("T")
MAX_EVENTS = 1000
_EVENT_KEYS = {"type", "data", "id", "occurred_at"}


async def _viewer(request: Request, runtime: RuntimeDep) -> parties.Viewer:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else \
        request.headers.get("x-api-key", "")
    viewer = None
    if token.startswith("tdp_"):
        viewer = await run_in_threadpool(runtime.sla.service.viewer_of, token)
    elif token:
        tenant = await run_in_threadpool(runtime.keys.tenant_of, token)
        viewer = parties.Viewer.operator(tenant) if tenant else None
    if viewer is None:
        raise Problem(401, "unauthorized", "A valid API key is required.",
                      "Send it as 'Authorization: Bearer <key>'.",
                      headers={"WWW-Authenticate": "Bearer"})
    return viewer


ViewerDep = Annotated[parties.Viewer, Depends(_viewer)]


async def _call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a service call off the event loop; its errors become problem documents."""
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    except parties.NotFound as exc:
        raise Problem(404, "not-found", "Not found.", str(exc)) from exc
    except service.EventsRejected as exc:
        raise Problem(422, "invalid-order-events", "Some events are not valid; none was "
                      "recorded.", errors=[{"pointer": p.pointer, "detail": p.detail}
                                           for p in exc.problems]) from exc
    except (sla_exceptions.QueryError, performance.PerformanceQueryError,
            subscriptions.SubscriptionError) as exc:
        raise Problem(422, "invalid-parameters", "A parameter is not valid.",
                      errors=[{"pointer": f"/{exc.field}", "detail": exc.detail}]) from exc
    except rulebook.RuleBookError as exc:
        raise Problem(422, "invalid-rule-book", "The calendar or rule is not valid.",
                      str(exc)) from exc


async def _json_body(request: Request, limit: int) -> Any:
    body = await request.body()
    if len(body) > limit:
        raise Problem(413, "payload-too-large", "The body is too large.",
                      f"At most {limit} bytes are accepted.")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Problem(400, "malformed-json", "The body is not valid JSON.", str(exc)) from exc


def _object(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise Problem(422, "invalid-body", "The body must be a JSON object.")
    return doc


# -- order events and orders ------------------------------------------------------------

@router.post("/v1/orders/events", summary="Record order lifecycle events (all or nothing)")
async def post_order_events(request: Request, runtime: RuntimeDep,
                            viewer: ViewerDep) -> dict[str, Any]:
    doc = await _json_body(request, runtime.settings.max_body_bytes)
    items = doc["events"] if isinstance(doc, dict) and "events" in doc else \
        doc if isinstance(doc, list) else [doc]
    if not isinstance(items, list) or not 0 < len(items) <= MAX_EVENTS:
        raise Problem(422, "invalid-order-events", f"Send 1-{MAX_EVENTS} events.")
    events = [_event(item, i) for i, item in enumerate(items)]
    recorded = await _call(runtime.sla.service.record, viewer, events, "api")
    return {"events": [r.as_json() for r in recorded]}


def _event(item: Any, index: int) -> tuple[str, dict[str, Any], str | None]:
    if not isinstance(item, dict) or set(item) - _EVENT_KEYS \
            or not isinstance(item.get("type"), str) or not isinstance(item.get("data"), dict):
        raise Problem(422, "invalid-order-events", "Not an event.",
                      errors=[{"pointer": f"/{index}", "detail": "an object with type, data "
                               "and optional id and occurred_at"}])
    external = item.get("id")
    if external is not None and (not isinstance(external, str) or not 0 < len(external) <= 255):
        raise Problem(422, "invalid-order-events", "Not an event.",
                      errors=[{"pointer": f"/{index}/id", "detail": "1-255 characters"}])
    data = dict(item["data"])
    if item.get("occurred_at") is not None:
        data.setdefault("occurred_at", item["occurred_at"])
    return item["type"], data, external


@router.get("/v1/orders", summary="Orders the caller may see, newest first")
async def list_orders(runtime: RuntimeDep, viewer: ViewerDep, retailer: str | None = None,
                      supplier: str | None = None, status: str | None = None,
                      order_ref: str | None = None, before: int | None = None,
                      limit: int = Query(default=50, ge=1, le=500)) -> dict[str, Any]:
    rows = await _call(runtime.sla.service.orders, viewer, retailer=retailer,
                       supplier=supplier, status=status, order_ref=order_ref,
                       before_id=before, limit=limit)
    return {"orders": rows, "next": rows[-1]["id"] if len(rows) == limit else None}


@router.get("/v1/orders/{order_id}", summary="One order with its timeline and obligations")
async def get_order(order_id: int, runtime: RuntimeDep, viewer: ViewerDep) -> dict[str, Any]:
    return await _call(runtime.sla.service.order, viewer, order_id)


# -- exceptions and performance ---------------------------------------------------------

def _query(retailer: str | None = None, supplier: str | None = None,
           obligation: str | None = None, kind: str = "overdue", status: str = "open",
           min_age_hours: float | None = None, max_age_hours: float | None = None,
           order_ref: str | None = None, sort: str = "lateness",
           limit: int = Query(default=50, ge=1, le=sla_exceptions.MAX_PAGE),
           offset: int = Query(default=0, ge=0)) -> sla_exceptions.ExceptionQuery:
    try:
        return sla_exceptions.ExceptionQuery(retailer, supplier, obligation, kind, status,
                                             min_age_hours, max_age_hours, order_ref, sort,
                                             limit, offset)
    except sla_exceptions.QueryError as exc:
        raise Problem(422, "invalid-parameters", "A parameter is not valid.",
                      errors=[{"pointer": f"/{exc.field}", "detail": exc.detail}]) from exc


QueryDep = Annotated[sla_exceptions.ExceptionQuery, Depends(_query)]


@router.get("/v1/sla/exceptions", summary="Order exceptions, most late first")
async def list_exceptions(runtime: RuntimeDep, viewer: ViewerDep,
                          query: QueryDep) -> dict[str, Any]:
    page = await _call(runtime.sla.service.exceptions, viewer, query)
    return {"exceptions": page.items, "next_offset": page.next_offset}


@router.get("/v1/sla/exceptions.csv", summary="Order exceptions as CSV",
            response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}})
async def export_exceptions(runtime: RuntimeDep, viewer: ViewerDep,
                            query: QueryDep) -> StreamingResponse:
    export = sla_exceptions.ExceptionQuery(**{**query.__dict__, "offset": 0,
                                              "limit": sla_exceptions.MAX_EXPORT_ROWS})
    lines = await _call(lambda: list(runtime.sla.service.export(viewer, export)))
    return StreamingResponse(iter(lines), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition":
                                      'attachment; filename="exceptions.csv"'})


@router.get("/v1/sla/exceptions/{exception_id}", summary="One order exception")
async def get_exception(exception_id: int, runtime: RuntimeDep,
                        viewer: ViewerDep) -> dict[str, Any]:
    return await _call(runtime.sla.service.exception, viewer, exception_id)


@router.get("/v1/sla/performance", summary="On-time share and delay per supplier, retailer, "
            "obligation and week")
async def get_performance(runtime: RuntimeDep, viewer: ViewerDep, retailer: str | None = None,
                          supplier: str | None = None, obligation: str | None = None,
                          from_week: str | None = None,
                          to_week: str | None = None) -> dict[str, Any]:
    def run() -> list[dict[str, Any]]:
        query = performance.PerformanceQuery(retailer, supplier, obligation, from_week, to_week)
        return runtime.sla.service.performance(viewer, query)
    return {"rows": await _call(run)}


# -- rule books -------------------------------------------------------------------------

@router.get("/v1/sla/retailers", summary="Retailers with a rule book")
async def list_retailers(runtime: RuntimeDep, viewer: ViewerDep) -> dict[str, Any]:
    return {"retailers": await _call(runtime.sla.service.retailers, viewer)}


@router.get("/v1/sla/retailers/{retailer}", summary="A retailer's calendar and rules")
async def get_rule_book(retailer: str, runtime: RuntimeDep, viewer: ViewerDep) -> dict[str, Any]:
    return await _call(runtime.sla.service.rule_book, viewer, retailer)


@router.put("/v1/sla/retailers/{retailer}/calendar",
            summary="Set a retailer's calendar; open deadlines are re-evaluated")
async def put_calendar(retailer: str, request: Request, runtime: RuntimeDep,
                       viewer: ViewerDep) -> dict[str, Any]:
    doc = _object(await _json_body(request, runtime.settings.max_body_bytes))
    name = doc.pop("name", None)
    return await _call(runtime.sla.service.put_calendar, viewer, retailer, doc,
                       None if name is None else str(name)[:200])


@router.put("/v1/sla/retailers/{retailer}/rules/{rule_id}",
            summary="Create or replace a rule; open deadlines are re-evaluated")
async def put_rule(retailer: str, rule_id: str, request: Request, runtime: RuntimeDep,
                   viewer: ViewerDep) -> dict[str, Any]:
    if not 0 < len(rule_id) <= 64:
        raise Problem(422, "invalid-parameters", "A rule id has 1-64 characters.")
    doc = _object(await _json_body(request, runtime.settings.max_body_bytes))
    return await _call(runtime.sla.service.put_rule, viewer, retailer, rule_id, doc)


@router.delete("/v1/sla/retailers/{retailer}/rules/{rule_id}",
               summary="Delete a rule; open deadlines are re-evaluated")
async def delete_rule(retailer: str, rule_id: str, runtime: RuntimeDep,
                      viewer: ViewerDep) -> dict[str, Any]:
    return await _call(runtime.sla.service.delete_rule, viewer, retailer, rule_id)


# -- digest subscriptions ---------------------------------------------------------------

@router.get("/v1/sla/subscriptions", summary="Digest subscriptions the caller may see")
async def list_subscriptions(runtime: RuntimeDep, viewer: ViewerDep,
                             supplier: str | None = None) -> dict[str, Any]:
    return {"subscriptions": await _call(runtime.sla.service.subscriptions, viewer, supplier)}


@router.post("/v1/sla/subscriptions", status_code=201,
             summary="Subscribe a supplier user to digests (days, time, timezone, filters)")
async def create_subscription(request: Request, runtime: RuntimeDep,
                              viewer: ViewerDep) -> dict[str, Any]:
    doc = _object(await _json_body(request, runtime.settings.max_body_bytes))
    supplier = doc.pop("supplier", None)
    return await _call(runtime.sla.service.subscribe, viewer, doc, supplier)


@router.get("/v1/sla/subscriptions/{sub_id}", summary="One digest subscription")
async def get_subscription(sub_id: int, runtime: RuntimeDep, viewer: ViewerDep) -> dict[str, Any]:
    return await _call(runtime.sla.service.subscription, viewer, sub_id)


@router.patch("/v1/sla/subscriptions/{sub_id}", summary="Change a subscription (opt in/out...)")
async def patch_subscription(sub_id: int, request: Request, runtime: RuntimeDep,
                             viewer: ViewerDep) -> dict[str, Any]:
    doc = _object(await _json_body(request, runtime.settings.max_body_bytes))
    return await _call(runtime.sla.service.update_subscription, viewer, sub_id, doc)


@router.delete("/v1/sla/subscriptions/{sub_id}", status_code=204, response_class=Response,
               summary="Delete a subscription")
async def delete_subscription(sub_id: int, runtime: RuntimeDep, viewer: ViewerDep) -> Response:
    await _call(runtime.sla.service.unsubscribe, viewer, sub_id)
    return Response(status_code=204)


@router.get("/v1/sla/subscriptions/{sub_id}/runs", summary="Digests fired for a subscription")
async def list_runs(sub_id: int, runtime: RuntimeDep, viewer: ViewerDep) -> dict[str, Any]:
    return {"runs": await _call(runtime.sla.service.digest_runs, viewer, sub_id)}


# -- party keys (operators) -------------------------------------------------------------

@router.post("/v1/sla/party-keys", status_code=201,
             summary="Create an API key bound to one retailer or supplier (operators)")
async def create_party_key(request: Request, runtime: RuntimeDep,
                           viewer: ViewerDep) -> dict[str, Any]:
    if viewer.kind is not parties.PartyKind.OPERATOR:
        raise Problem(404, "not-found", "Not found.")
    doc = _object(await _json_body(request, runtime.settings.max_body_bytes))
    kind, party = doc.get("kind"), doc.get("party")
    if kind not in ("retailer", "supplier") or not isinstance(party, str) \
            or not 0 < len(party) <= 128:
        raise Problem(422, "invalid-parameters", "kind (retailer|supplier) and party needed.")
    key = await _call(runtime.sla.service.create_party_key, viewer.tenant,
                      parties.PartyKind(kind), party, str(doc.get("label", ""))[:200])
    return {"key": key, "tenant": viewer.tenant, "kind": kind, "party": party}
