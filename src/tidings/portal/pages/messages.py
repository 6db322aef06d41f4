"""Operators' message queue and message pages: filters, preview, timeline, hold and requeue.

Everything goes through the outbox (``SqlOutbox.list``/``get``/``move``), scoped to the
operator's tenant: a message of another tenant is a 404 like a message that does not exist.
The message's HTML is shown in an ``<iframe sandbox="">`` through ``srcdoc``: no script runs,
it has an opaque origin, and the page's CSP keeps it from loading remote images (so a preview
never counts as an open).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tidings.api import messages as api_messages
from tidings.api.problems import Problem
from tidings.domain.states import LEGAL, State
from tidings.portal import auth, views
from tidings.portal.accounts import Role, User
from tidings.storage.outbox_sql import IllegalTransition, MessageNotFound

__all__ = ["ACTIONS", "actions_for", "router"]

router = APIRouter(prefix="/portal/ops/messages")
Operator = Depends(auth.roles(Role.OPERATOR))
PAGE_SIZE = 50
# Why a message needs a look: states whose last error or feedback explains them.
TROUBLED = frozenset({State.BOUNCED, State.FAILED, State.SUPPRESSED, State.EXPIRED,
                      State.DEFERRED})


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    target: State
    label: str
    done: str
    danger: bool = False


ACTIONS = {a.name: a for a in (
    Action("hold", State.HELD, "Hold", "is held: it will not be sent until you release it"),
    Action("release", State.QUEUED, "Release", "is released and queued to be sent"),
    Action("requeue", State.QUEUED, "Requeue", "is queued again and will be sent at the next "
           "dispatcher step"),
    Action("cancel", State.CANCELLED, "Cancel", "is cancelled: it will not be sent", True),
)}


def actions_for(state: State) -> list[Action]:
    """The operator actions legal from ``state`` (release only from held)."""
    out = []
    for action in ACTIONS.values():
        if action.target not in LEGAL[state]:
            continue
        if action.name in ("release", "requeue") and \
                (action.name == "release") != (state is State.HELD):
            continue  # a held message is released; any other is requeued
        out.append(action)
    return out


def _day(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
    except ValueError:
        return None


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    state = q.get("state") or None
    return {"state": state if state in set(State) else None,
            "provider": q.get("provider") or None,
            "recipient": (q.get("recipient") or "").strip().lower() or None,
            "message_type": q.get("message_type") or None,
            "from": q.get("from") or "", "to": q.get("to") or ""}


@router.get("")
async def queue(request: Request, portal: auth.PortalDep, user: User = Operator) -> Response:
    f = _filters(request)
    before = views.cursor(request.query_params.get("before"))
    start, end = _day(f["from"]), _day(f["to"])
    rows = await run_in_threadpool(
        lambda: portal.runtime.outbox.list(
            user.tenant, state=f["state"], recipient=f["recipient"], provider=f["provider"],
            message_type=f["message_type"], before_id=before, limit=PAGE_SIZE,
            created_from=start, created_before=end + timedelta(days=1) if end else None))
    counts = await run_in_threadpool(portal.runtime.outbox.counts, user.tenant)
    config = portal.runtime.project.config
    return views.page(request, portal, "messages/queue.html", {
        "title": "Messages", "rows": rows, "filters": f, "counts": counts,
        "states": [s.value for s in State], "providers": [p.name for p in config.providers],
        "message_types": sorted({t.name for t in config.message_types}),
        "filtered": any(f.values()), "before": before,
        "older": rows[-1]["id"] if len(rows) == PAGE_SIZE else None,
        "bad_dates": bool((f["from"] and not start) or (f["to"] and not end))})


async def _message(portal: auth.Portal, user: User, message_id: int) -> dict[str, Any]:
    try:
        return await run_in_threadpool(portal.runtime.outbox.get, user.tenant, message_id)
    except MessageNotFound as exc:
        raise auth.PageNotFound() from exc


@router.get("/{message_id:int}")
async def message(request: Request, message_id: int, portal: auth.PortalDep,
                  user: User = Operator) -> Response:
    msg = await _message(portal, user, message_id)
    timeline = msg["timeline"]
    state = State(msg["state"])
    return views.page(request, portal, "messages/message.html", {
        "title": f"Message {message_id}", "msg": msg, "state": state,
        "actions": actions_for(state),
        "transitions": [e for e in timeline if e["kind"] not in ("open", "click")],
        "responses": [e for e in timeline if e["response"] and e["kind"] not in
                      ("open", "click")],
        "engagement": [e for e in timeline if e["kind"] in ("open", "click")],
        "why": _why(msg) if state in TROUBLED else None})


def _why(msg: dict[str, Any]) -> dict[str, Any]:
    """The latest explanation of a troubled message: its error and the event that set it."""
    reasons = [e for e in msg["timeline"] if e["to_state"] == msg["state"]
               and e["kind"] not in ("open", "click")]
    last = reasons[-1] if reasons else None
    return {"error": msg["last_error"], "response": msg["provider_response"],
            "reason": last["reason"] if last else None,
            "detail": last["response"] if last else None,
            "at": last["at"] if last else None, "by": last["actor"] if last else None}


@router.get("/{message_id:int}/raw")
async def raw(message_id: int, portal: auth.PortalDep, user: User = Operator) -> Response:
    try:
        answer = await api_messages.get_raw(message_id, portal.runtime, user.tenant)
    except Problem as exc:  # the API's 404: not captured, or not this tenant's
        raise auth.PageNotFound() from exc
    answer.headers["content-disposition"] = f'attachment; filename="message-{message_id}.eml"'
    return answer


@router.post("/{message_id:int}/{name}")
async def act(request: Request, message_id: int, name: str, portal: auth.PortalDep,
              user: User = Operator) -> Response:
    action = ACTIONS.get(name)
    if action is None:
        raise auth.PageNotFound()
    runtime = portal.runtime
    url = f"/portal/ops/messages/{message_id}"
    try:
        await run_in_threadpool(runtime.outbox.move, user.tenant, message_id, action.target,
                                runtime.clock.now(), f"portal:{user.login}", name)
    except MessageNotFound as exc:
        raise auth.PageNotFound() from exc
    except IllegalTransition as exc:
        return views.flash_redirect(
            request, portal, url, f"Message {message_id} was not changed: it is {exc.src}, and "
            f"{action.label.lower()} needs another state. Reload to see its current state.",
            "error")
    runtime.wake.set()
    return views.flash_redirect(request, portal, url, f"Message {message_id} {action.done}.")
