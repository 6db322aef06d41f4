"""Operators' API keys: list (prefixes only), create (the key is shown once), revoke.

Keys are the spine's (``SqlApiKeys``). A key is revoked only when it belongs to the
operator's tenant; a prefix of another tenant is answered like an unknown one.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tidings.portal import auth, views
from tidings.portal.accounts import Role, User

__all__ = ["router"]

router = APIRouter(prefix="/portal/ops/keys")
Operator = Depends(auth.roles(Role.OPERATOR))
MAX_LABEL_CHARS = 200


async def _page(request: Request, portal: auth.Portal, user: User, new_key: str | None = None,
                status_code: int = 200) -> Response:
    rows = await run_in_threadpool(portal.runtime.keys.list, user.tenant)
    return views.page(request, portal, "keys.html",
                      {"title": "API keys", "rows": rows, "new_key": new_key},
                      status_code=status_code)


@router.get("")
async def index(request: Request, portal: auth.PortalDep, user: User = Operator) -> Response:
    return await _page(request, portal, user)


@router.post("")
async def create(request: Request, portal: auth.PortalDep, user: User = Operator,
                 label: str = Form("")) -> Response:
    label = label.strip()[:MAX_LABEL_CHARS] or f"made in the portal by {user.login}"
    runtime = portal.runtime
    key = await run_in_threadpool(runtime.keys.create, user.tenant, label, runtime.clock.now())
    return await _page(request, portal, user, new_key=key, status_code=201)


@router.post("/{prefix}/revoke")
async def revoke(request: Request, prefix: str, portal: auth.PortalDep,
                 user: User = Operator) -> Response:
    runtime = portal.runtime
    ours = {row["prefix"] for row in await run_in_threadpool(runtime.keys.list, user.tenant)}
    if prefix not in ours:
        raise auth.PageNotFound()
    done = await run_in_threadpool(runtime.keys.revoke, prefix, runtime.clock.now())
    text = (f"Key tdg_{prefix}_… is revoked: requests with it now get 401." if done else
            f"Key tdg_{prefix}_… was already revoked.")
    return views.flash_redirect(request, portal, "/portal/ops/keys", text,
                                "ok" if done else "info")
