"""Operators' routing rules: what each message type sends, to whom, when, and through what.

Rules live in the project's ``tidings.toml`` (checked by ``tidings check``), so this page
reads them from the compiled project and does not edit them; it says where to change them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tidings.portal import auth, views
from tidings.portal.accounts import Role, User

__all__ = ["router"]

router = APIRouter(prefix="/portal/ops/rules")
Operator = Depends(auth.roles(Role.OPERATOR))


@router.get("")
async def index(request: Request, portal: auth.PortalDep, user: User = Operator,
                message_type: str | None = None) -> Response:
    config = portal.runtime.project.config
    rules = [r for r in config.rules if r.tenant == user.tenant]
    types = sorted({r.message_type for r in rules})
    if message_type:
        rules = [r for r in rules if r.message_type == message_type]
    return views.page(request, portal, "rules.html", {
        "title": "Rules", "rules": rules, "types": types, "message_type": message_type or "",
        "project_file": portal.runtime.project.root / "tidings.toml"})
