"""``POST /v1/templates/{name}/preview``: render a template with sample data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from tidings.api.deps import RuntimeDep, TenantDep
from tidings.api.problems import Problem
from tidings.render.errors import RenderError, TemplateNotFound

__all__ = ["router"]

router = APIRouter()


class PreviewRequest(BaseModel):
    data: dict[str, Any] = {}
    locale: str | None = None


class PreviewResponse(BaseModel):
    subject: str
    html: str | None
    text: str
    locale: str
    version: str


@router.post("/v1/templates/{name}/preview", response_model=PreviewResponse)
async def preview(name: str, request: PreviewRequest, runtime: RuntimeDep,
                  tenant: TenantDep) -> PreviewResponse:
    context = dict(request.data)
    context["tidings"] = {"type": "preview", "tenant": tenant, "locale": request.locale}
    try:
        out = await run_in_threadpool(runtime.project.templates.render, name, context,
                                      request.locale)
    except TemplateNotFound as exc:
        raise Problem(404, "not-found", "No such template.", str(exc)) from exc
    except RenderError as exc:
        raise Problem(422, "render-error", "The template does not render with this data.",
                      str(exc)) from exc
    return PreviewResponse(subject=out.subject, html=out.html, text=out.text,
                           locale=out.locale, version=out.version)
