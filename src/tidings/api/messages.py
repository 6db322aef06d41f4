"""Messages of the caller's tenant: list, read, raw copy, and operator actions."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select

from tidings.api.deps import RuntimeDep, TenantDep
from tidings.api.problems import Problem
from tidings.domain.states import State
from tidings.storage import tables
from tidings.storage.outbox_sql import IllegalTransition, MessageNotFound

__all__ = ["router"]

router = APIRouter()
Action = Literal["cancel", "hold", "release", "requeue"]
_TARGET = {"cancel": State.CANCELLED, "hold": State.HELD, "release": State.QUEUED,
           "requeue": State.QUEUED}


def _not_found(message_id: int) -> Problem:
    return Problem(404, "not-found", "No such message.", f"No message {message_id}.")


@router.get("/v1/messages", summary="List messages, newest first")
async def list_messages(runtime: RuntimeDep, tenant: TenantDep,
                        state: State | None = None, recipient: str | None = None,
                        provider: str | None = None, message_type: str | None = None,
                        before: int | None = Query(default=None, description="cursor"),
                        limit: int = Query(default=50, ge=1, le=500)) -> dict[str, Any]:
    rows = await run_in_threadpool(
        runtime.outbox.list, tenant, state=state.value if state else None, recipient=recipient,
        provider=provider, message_type=message_type, before_id=before, limit=limit)
    cursor = rows[-1]["id"] if len(rows) == limit else None
    return {"messages": rows, "next": cursor}


@router.get("/v1/messages/{message_id}", summary="One message with its timeline")
async def get_message(message_id: int, runtime: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    try:
        return await run_in_threadpool(runtime.outbox.get, tenant, message_id)
    except MessageNotFound as exc:
        raise _not_found(message_id) from exc


@router.get("/v1/messages/{message_id}/raw", summary="The message as sent (capture provider)",
            response_class=Response, responses={200: {"content": {"message/rfc822": {}}}})
async def get_raw(message_id: int, runtime: RuntimeDep, tenant: TenantDep) -> Response:
    def load() -> bytes | None:
        c, m = tables.captures, tables.messages
        with runtime.engine.connect() as conn:
            return conn.execute(select(c.c.raw).join(m, m.c.id == c.c.message_id).where(
                c.c.message_id == message_id, m.c.tenant == tenant)).scalar()
    raw = await run_in_threadpool(load)
    if raw is None:
        raise _not_found(message_id)
    return Response(raw, media_type="message/rfc822")


@router.post("/v1/messages/{message_id}/{action}", summary="cancel, hold, release or requeue")
async def act(message_id: int, action: Action, runtime: RuntimeDep,
              tenant: TenantDep) -> dict[str, Any]:
    try:
        state = await run_in_threadpool(runtime.outbox.move, tenant, message_id, _TARGET[action],
                                        runtime.clock.now(), f"api:{tenant}", action)
    except MessageNotFound as exc:
        raise _not_found(message_id) from exc
    except IllegalTransition as exc:
        raise Problem(409, "illegal-transition", f"Cannot {action} this message.",
                      f"It is {exc.src}; {action} needs another state.") from exc
    runtime.wake.set()
    return {"id": message_id, "state": state.value}
