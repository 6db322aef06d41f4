"""``POST /v1/events``: one event or a batch, answered 202 only after the commit.

Checks run in the order a client can act on: key (401), media type (415),
size (413), JSON syntax (400), envelope shape (422), then the events
themselves (422 with a pointer to each problem; nothing is queued when any
event of a batch is wrong). ``Idempotency-Key`` replays, refuses (422) or
reports in flight (409) as Stripe's API does.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tidings.api import bodies
from tidings.api.deps import RuntimeDep, TenantDep
from tidings.api.problems import Problem
from tidings.ingest.service import Accepted, InboundEvent, Rejected
from tidings.storage import idempotency_sql as idem

__all__ = ["router"]

router = APIRouter()
MAX_KEY_CHARS = 255
_EVENT_KEYS = {"type", "data", "id", "occurred_at"}


@router.post("/v1/events", status_code=202, summary="Ingest one event or a batch",
             responses={400: {}, 401: {}, 409: {}, 413: {}, 415: {}, 422: {}, 503: {}},
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"oneOf": [{"$ref": "#/components/schemas/Event"},
                                      {"type": "object", "properties": {"events": {
                                          "type": "array",
                                          "items": {"$ref": "#/components/schemas/Event"}}}},
                                      {"type": "array",
                                       "items": {"$ref": "#/components/schemas/Event"}}]}}}}})
async def post_events(request: Request, runtime: RuntimeDep, tenant: TenantDep,
                      idempotency_key: str | None = Header(default=None)) -> Response:
    body = await bodies.read_json(request, runtime.settings.max_body_bytes)
    events = _parse(body, runtime.settings.max_batch_events)
    if idempotency_key is None:
        return await _ingest(runtime, tenant, events, None)
    if not 0 < len(idempotency_key) <= MAX_KEY_CHARS:
        raise Problem(400, "bad-idempotency-key", "Idempotency-Key must be 1-255 characters.")
    digest = hashlib.sha256(b"POST /v1/events\n" + body).hexdigest()
    started = await run_in_threadpool(runtime.idempotency.begin, tenant, idempotency_key,
                                      digest, runtime.clock.now())
    match started:
        case idem.Replay(status=status, body=stored):
            return Response(stored, status_code=status, media_type="application/json",
                            headers={"Idempotent-Replayed": "true"})
        case idem.Mismatch():
            raise Problem(422, "idempotency-key-reused", "Idempotency-Key reused.",
                          "This key was used with a different request body.")
        case idem.InFlight():
            raise Problem(409, "idempotency-key-in-flight", "Request in progress.",
                          "A request with this Idempotency-Key is still being processed.",
                          headers={"Retry-After": "1"})
    try:
        return await _ingest(runtime, tenant, events, idempotency_key)
    except BaseException:
        await run_in_threadpool(runtime.idempotency.release, tenant, idempotency_key)
        raise


async def _ingest(runtime: Any, tenant: str, events: list[InboundEvent],
                  key: str | None) -> Response:
    answer: dict[str, bytes] = {}

    def on_commit(conn: Any, accepted: list[Accepted]) -> None:
        answer["body"] = orjson.dumps({"events": [a.as_json() for a in accepted]})
        if key is not None:
            runtime.idempotency.finish(conn, tenant, key, 202, answer["body"])

    limiter = runtime.ingest_slots
    if limiter.locked():
        raise Problem(503, "overloaded", "Too many requests in progress.",
                      "Retry after the time in Retry-After.", headers={"Retry-After": "1"})
    async with limiter:
        try:
            await run_in_threadpool(runtime.ingestor.accept, tenant, events, "http", on_commit)
        except Rejected as exc:
            raise Problem(422, "invalid-events", "Some events are not valid; none was queued.",
                          errors=[{"pointer": e.pointer, "detail": e.detail, "code": e.code}
                                  for e in exc.errors]) from exc
    runtime.wake.set()
    return Response(answer["body"], status_code=202, media_type="application/json")


def _parse(body: bytes, max_events: int) -> list[InboundEvent]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Problem(400, "malformed-json", "The body is not valid JSON.", str(exc)) from exc
    if isinstance(doc, list):
        items, base = doc, ""
    elif isinstance(doc, dict) and "events" in doc:
        if set(doc) != {"events"} or not isinstance(doc["events"], list):
            raise _shape([{"pointer": "/events", "detail": "must be the only key, an array"}])
        items, base = doc["events"], "/events"
    else:
        items, base = [doc], None
    if not items:
        raise _shape([{"pointer": base or "/", "detail": "no events"}])
    if len(items) > max_events:
        raise Problem(413, "too-many-events", "Too many events in one request.",
                      f"At most {max_events} events per request.")
    errors: list[dict[str, Any]] = []
    events = [_event(item, "" if base is None else f"{base}/{i}", errors)
              for i, item in enumerate(items)]
    if errors:
        raise _shape(errors)
    return [e for e in events if e is not None]


def _event(item: Any, at: str, errors: list[dict[str, Any]]) -> InboundEvent | None:
    if not isinstance(item, dict):
        errors.append({"pointer": at or "/", "detail": "an event must be an object"})
        return None
    problems = [{"pointer": f"{at}/{k}", "detail": "unknown key"} for k in item
                if k not in _EVENT_KEYS]
    if not isinstance(item.get("type"), str) or not item["type"]:
        problems.append({"pointer": f"{at}/type", "detail": "required, a non-empty string"})
    if not isinstance(item.get("data"), dict):
        problems.append({"pointer": f"{at}/data", "detail": "required, an object"})
    external = item.get("id")
    if external is not None and (not isinstance(external, str) or not 0 < len(external) <= 255):
        problems.append({"pointer": f"{at}/id", "detail": "a string of 1-255 characters"})
    errors.extend(problems)
    if problems:
        return None
    return InboundEvent(item["type"], item["data"], external, at)


def _shape(errors: list[dict[str, Any]]) -> Problem:
    return Problem(422, "invalid-events", "The request is not an event or a batch of events.",
                   errors=errors)
