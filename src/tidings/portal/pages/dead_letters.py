"""Operators' dead letters: what could not be decoded, validated or routed; replay once.

Reads and replays go through the ingest stage (``SqlDeadLetters``, ``pipeline_of(runtime)
.replay``), scoped to the operator's tenant: another tenant's letter is a 404. A replay
decodes the stored payload again with the message type's current schema or layout; the
page says whether it was accepted (and as which event) or refused again, and why.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tidings.ingest import pipeline as pipelines
from tidings.ingest.deadletters import Reason, SqlDeadLetters
from tidings.ingest.sources.runner import pipeline_of
from tidings.portal import auth, views
from tidings.portal.accounts import Role, User

__all__ = ["router"]

router = APIRouter(prefix="/portal/ops/dead-letters")
Operator = Depends(auth.roles(Role.OPERATOR))
PAGE_SIZE = 50
PREVIEW_BYTES = 20_000


@router.get("")
async def index(request: Request, portal: auth.PortalDep, user: User = Operator) -> Response:
    q = request.query_params
    before = views.cursor(q.get("before"))
    filters = {"source": q.get("source") or None, "reason": q.get("reason") or None,
               "status": q.get("status") or None}
    store = SqlDeadLetters(portal.runtime.engine)
    rows = await run_in_threadpool(lambda: store.list(user.tenant, limit=PAGE_SIZE,
                                                      before_id=before, **filters))
    return views.page(request, portal, "dead_letters/index.html", {
        "title": "Dead letters", "rows": rows, "filters": filters, "before": before,
        "older": rows[-1].id if len(rows) == PAGE_SIZE else None,
        "reasons": [r.value for r in Reason], "statuses": ["open", "replayed"],
        "sources": [s.name for s in portal.runtime.project.config.sources],
        "filtered": any(filters.values())})


async def _letter(portal: auth.Portal, user: User, letter_id: int) -> Any:
    letter = await run_in_threadpool(SqlDeadLetters(portal.runtime.engine).get, letter_id,
                                     user.tenant)
    if letter is None:
        raise auth.PageNotFound()
    return letter


@router.get("/{letter_id:int}")
async def show(request: Request, letter_id: int, portal: auth.PortalDep,
               user: User = Operator) -> Response:
    letter = await _letter(portal, user, letter_id)
    text = letter.payload[:PREVIEW_BYTES].decode("utf-8", errors="replace")
    return views.page(request, portal, "dead_letters/show.html", {
        "title": f"Dead letter {letter_id}", "letter": letter, "payload": text,
        "cut": len(letter.payload) > PREVIEW_BYTES})


@router.post("/{letter_id:int}/replay")
async def replay(request: Request, letter_id: int, portal: auth.PortalDep,
                 user: User = Operator) -> Response:
    await _letter(portal, user, letter_id)
    url = f"/portal/ops/dead-letters/{letter_id}"
    runtime = portal.runtime
    try:
        outcome = await run_in_threadpool(pipeline_of(runtime).replay, letter_id, user.tenant,
                                          None)
    except pipelines.AlreadyReplayed:
        return views.flash_redirect(request, portal, url, "This dead letter was already "
                                    "replayed; nothing was done.", "info")
    except ValueError as exc:
        return views.flash_redirect(request, portal, url, f"It cannot be replayed as it is: "
                                    f"{exc}. Fix the source and send the record again.", "error")
    runtime.wake.set()
    if outcome.status == "dead_letter":
        return views.flash_redirect(
            request, portal, url, f"Refused again: {outcome.reason} at {outcome.location}: "
            f"{outcome.detail}. Fix the schema or layout, then replay again.", "error")
    event = f" as event #{outcome.event_id}" if outcome.event_id else ""
    return views.flash_redirect(request, portal, url, f"Replayed: the record was {outcome.status}"
                                f"{event}. Its messages are in the queue.")
