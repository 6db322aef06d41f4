"""Provider feedback in, and the tenant's suppression list.

``POST /feedback/ses`` is the HTTPS endpoint an SNS topic of SES feedback
posts to: the message is verified before anything in it is used (see
``feedback.sns``); a refused message answers 403 and records nothing; a
confirmed subscription, a notification and an ignored event type answer 200.

``/v1/suppressions`` (API key): list, add (reason ``manual`` unless given),
remove; every entry says why and since when.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from tidings.api.deps import RuntimeDep, TenantDep
from tidings.api.problems import Problem
from tidings.feedback.sns import MAX_BODY_BYTES, SnsRefused

__all__ = ["router"]

router = APIRouter()
Reason = Literal["manual", "hard_bounce", "soft_bounce", "complained", "unsubscribed"]


@router.post("/feedback/ses", summary="Amazon SES feedback through an SNS HTTPS subscription")
async def ses_feedback(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise Problem(413, "payload-too-large", "The message is too large.")
    try:
        result = await run_in_threadpool(runtime.feedback.sns, body, runtime.clock.now())
    except SnsRefused as exc:
        raise Problem(403, "sns-refused", "The SNS message was refused.", str(exc)) from exc
    return {"status": result.type, "applied": [a.outcome for a in result.applied]}


class SuppressionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str = Field(min_length=3, max_length=320)
    reason: Reason = "manual"
    detail: str = Field(default="", max_length=500)


@router.get("/v1/suppressions", summary="The suppression list, by address")
async def list_suppressions(runtime: RuntimeDep, tenant: TenantDep,
                            reason: Reason | None = None, address: str | None = None,
                            after: str | None = Query(default=None, description="cursor"),
                            limit: int = Query(default=100, ge=1, le=1000)) -> dict[str, Any]:
    rows = await run_in_threadpool(runtime.feedback.suppressions.list, tenant, reason=reason,
                                   address=address, after=after, limit=limit)
    return {"suppressions": rows, "next": rows[-1]["address"] if len(rows) == limit else None}


@router.post("/v1/suppressions", status_code=201, summary="Suppress an address")
async def add_suppression(entry: SuppressionIn, runtime: RuntimeDep,
                          tenant: TenantDep) -> dict[str, Any]:
    if "@" not in entry.address and not entry.address.startswith("+"):
        raise Problem(422, "invalid-request", "The request is not valid.",
                      errors=[{"pointer": "/address",
                               "detail": "an email address or an E.164 phone number"}])
    changed = await run_in_threadpool(runtime.feedback.suppressions.add, tenant, entry.address,
                                      entry.reason, entry.detail, f"api:{tenant}",
                                      runtime.clock.now())
    return {"address": entry.address.strip().lower(), "reason": entry.reason,
            "changed": changed}


@router.delete("/v1/suppressions/{address}", status_code=204,
               summary="Take an address off the list")
async def remove_suppression(address: str, runtime: RuntimeDep, tenant: TenantDep) -> Response:
    removed = await run_in_threadpool(runtime.feedback.suppressions.remove, tenant, address)
    if not removed:
        raise Problem(404, "not-found", "No such suppression.", f"{address} is not suppressed.")
    return Response(status_code=204)
