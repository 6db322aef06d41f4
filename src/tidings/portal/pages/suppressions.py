"""Operators' suppression list: addresses Tidings will not send to, and why; add and remove.

Reads and writes go through the feedback stage's ``SqlSuppressions`` for the operator's
tenant. An address added here gets the reason ``manual``; removing one lets messages reach it
again (it does not resend what was suppressed).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tidings.portal import auth, views
from tidings.portal.accounts import Role, User
from tidings.storage.feedback_sql import SUPPRESSION_RANK

__all__ = ["router"]

router = APIRouter(prefix="/portal/ops/suppressions")
Operator = Depends(auth.roles(Role.OPERATOR))
PAGE_SIZE = 100
MAX_DETAIL_CHARS = 500


@router.get("")
async def index(request: Request, portal: auth.PortalDep, user: User = Operator,
                after: str | None = None) -> Response:
    q = request.query_params
    reason, address = q.get("reason") or None, (q.get("address") or "").strip() or None
    store = portal.runtime.feedback.suppressions
    rows = await run_in_threadpool(lambda: store.list(user.tenant, reason=reason,
                                                      address=address, limit=PAGE_SIZE,
                                                      after=after))
    return views.page(request, portal, "suppressions.html", {
        "title": "Suppressions", "rows": rows, "reason": reason or "", "address": address or "",
        "reasons": sorted(SUPPRESSION_RANK), "after": after,
        "more": rows[-1]["address"] if len(rows) == PAGE_SIZE else None,
        "filtered": bool(reason or address)})


@router.post("")
async def add(request: Request, portal: auth.PortalDep, user: User = Operator,
              address: str = Form(""), detail: str = Form("")) -> Response:
    address = address.strip().lower()
    url = "/portal/ops/suppressions"
    if "@" not in address and not address.startswith("+"):
        return views.flash_redirect(request, portal, url, "Nothing was added: give an email "
                                    "address or a phone number in +E.164 form.", "error")
    runtime = portal.runtime
    store = runtime.feedback.suppressions
    added = await run_in_threadpool(store.add, user.tenant, address, "manual",
                                    detail.strip()[:MAX_DETAIL_CHARS] or "added in the portal",
                                    f"portal:{user.login}", runtime.clock.now())
    text = (f"{address} is suppressed: nothing more will be sent to it." if added else
            f"{address} was already on the list; it stays suppressed.")
    return views.flash_redirect(request, portal, url, text, "ok" if added else "info")


@router.post("/remove")
async def remove(request: Request, portal: auth.PortalDep, user: User = Operator,
                 address: str = Form("")) -> Response:
    store = portal.runtime.feedback.suppressions
    gone = await run_in_threadpool(store.remove, user.tenant, address)
    url = "/portal/ops/suppressions"
    if not gone:
        return views.flash_redirect(request, portal, url, f"{address} was not on the list.",
                                    "info")
    return views.flash_redirect(request, portal, url, f"{address} was removed: new messages "
                                "will reach it again. Suppressed ones are not resent.")
