"""Operators' templates: the list, and each template rendered live against sample data.

Rendering goes through the project's ``TemplateStore.render`` with the same context the
ingest stage builds (the event's data plus ``tidings``), so the preview is what a message
would be. The sample starts as the latest real event of a message type whose rules use the
template (``samples.sample_for``) and can be edited on the page; the form posts back and, when
a script asks for JSON (``Accept: application/json``), only the rendering is returned.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from tidings.portal import auth, samples, views
from tidings.portal.accounts import Role, User
from tidings.render.errors import RenderError

__all__ = ["router"]

router = APIRouter(prefix="/portal/ops/templates")
Operator = Depends(auth.roles(Role.OPERATOR))
MAX_SAMPLE_BYTES = 200_000


@router.get("")
async def index(request: Request, portal: auth.PortalDep, user: User = Operator) -> Response:
    project = portal.runtime.project
    names = await run_in_threadpool(project.templates.names)
    rows = [{"name": name,
             "rules": [r.name for r in project.config.rules
                       if r.template == name and r.tenant == user.tenant],
             "types": samples.message_types_of(project.config, user.tenant, name),
             "locales": samples.locales_of(project.templates.root, name)} for name in names]
    return views.page(request, portal, "templates/index.html",
                      {"title": "Templates", "rows": rows})


def _render(portal: auth.Portal, user: User, name: str, data: dict[str, Any],
            locale: str | None) -> dict[str, Any]:
    context = dict(data)
    context["tidings"] = {"type": "preview", "tenant": user.tenant, "locale": locale}
    try:
        out = portal.runtime.project.templates.render(name, context, locale)
    except RenderError as exc:
        return {"error": f"The template does not render with this data: {exc}"}
    return {"subject": out.subject, "html": out.html, "text": out.text, "locale": out.locale,
            "version": out.version, "error": None}


def _parse(sample: str) -> tuple[dict[str, Any] | None, str | None]:
    if len(sample.encode()) > MAX_SAMPLE_BYTES:
        return None, f"The sample data is larger than {MAX_SAMPLE_BYTES // 1000} kB."
    try:
        data = orjson.loads(sample or "{}")
    except orjson.JSONDecodeError as exc:
        return None, f"The sample data is not valid JSON: {exc}"
    if not isinstance(data, dict):
        return None, "The sample data must be a JSON object, like {\"order\": {...}}."
    return data, None


async def _known(portal: auth.Portal, name: str) -> None:
    if name not in await run_in_threadpool(portal.runtime.project.templates.names):
        raise auth.PageNotFound()


@router.get("/{name}")
async def show(request: Request, name: str, portal: auth.PortalDep,
               user: User = Operator, locale: str | None = None) -> Response:
    await _known(portal, name)
    runtime = portal.runtime
    data, origin = await run_in_threadpool(samples.sample_for, runtime.engine, runtime.project,
                                           user.tenant, name)
    result = await run_in_threadpool(_render, portal, user, name, data, locale or None)
    return _page(request, portal, user, name, orjson.dumps(data, option=orjson.OPT_INDENT_2)
                 .decode(), origin, locale or "", result)


@router.post("/{name}")
async def preview(request: Request, name: str, portal: auth.PortalDep, user: User = Operator,
                  sample: str = Form(""), locale: str = Form("")) -> Response:
    await _known(portal, name)
    data, error = _parse(sample)
    result = {"error": error} if data is None else await run_in_threadpool(
        _render, portal, user, name, data, locale or None)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(result)
    return _page(request, portal, user, name, sample, "your edit", locale, result)


def _page(request: Request, portal: auth.Portal, user: User, name: str, sample: str,
          origin: str, locale: str, result: dict[str, Any]) -> Response:
    project = portal.runtime.project
    return views.page(request, portal, "templates/show.html", {
        "title": f"Template {name}", "name": name, "sample": sample, "origin": origin,
        "locale": locale, "result": result,
        "locales": samples.locales_of(project.templates.root, name),
        "rules": [r for r in project.config.rules
                  if r.template == name and r.tenant == user.tenant]},
        status_code=200 if not result.get("error") else 422)
