"""Operators' sources: each configured source of the tenant with its last run and totals.

The list is the ingest stage's own (``api.sources.list_sources``: the status rows of the
tenant's sources, plus configured sources that have not run yet), so the page and
``GET /v1/sources`` never disagree.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tidings.api import sources as sources_api
from tidings.portal import auth, views
from tidings.portal.accounts import Role, User

__all__ = ["router"]

router = APIRouter(prefix="/portal/ops/sources")
Operator = Depends(auth.roles(Role.OPERATOR))


@router.get("")
async def index(request: Request, portal: auth.PortalDep, user: User = Operator) -> Response:
    listed = await sources_api.list_sources(portal.runtime, user.tenant)
    configured = {s.name: s for s in portal.runtime.project.config.sources}
    return views.page(request, portal, "sources.html", {
        "title": "Sources", "rows": listed["sources"], "configured": configured})
