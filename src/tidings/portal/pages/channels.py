"""Operators' channels: channel configurations, providers with their status tables, and
communication channels; a provider's delivery settings and status rows can be changed here.

Reads and writes go through the channels stage's ``ChannelService`` (the same calls as the
API and ``tidings providers``): an edit is validated like a project file, stored with origin
``operator`` (a later ``tidings sync`` leaves it alone) and picked up by every dispatcher at
its next step. Secrets never appear: settings show only the names of their environment
variables.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tidings.channels import service as channel_service
from tidings.channels.public import public
from tidings.channels.statuses import ACTIONS
from tidings.portal import auth, views
from tidings.portal.accounts import Role, User

__all__ = ["EDITABLE", "patch_of", "router"]

router = APIRouter(prefix="/portal/ops/channels")
Operator = Depends(auth.roles(Role.OPERATOR))
# Provider fields an operator changes from the portal (the rest: API, CLI or tidings.toml).
EDITABLE = ("from_address", "bulk_size", "interval_min", "interval_max", "rate_per_second",
            "retry_max_attempts", "retry_interval", "retry_max_interval", "max_age")
FLAGS = ("open_tracking", "click_tracking")


def patch_of(form: dict[str, str]) -> dict[str, Any]:
    """The provider fields a settings form changes; an empty rate means no limit."""
    patch: dict[str, Any] = {name: form[name].strip() for name in EDITABLE
                             if name in form and form[name].strip()}
    if "rate_per_second" in form and not form["rate_per_second"].strip():
        patch["rate_per_second"] = None
    for flag in FLAGS:
        patch[flag] = form.get(flag) == "yes"
    return patch


@router.get("")
async def index(request: Request, portal: auth.PortalDep, user: User = Operator) -> Response:
    catalog = await run_in_threadpool(portal.runtime.channels.catalog)
    return views.page(request, portal, "channels/index.html", {
        "title": "Channels", "channels": list(catalog.channels.values()),
        "providers": [public(p, catalog.origin("provider", p.name))
                      for p in catalog.providers.values()],
        "communication": list(catalog.communication.values()),
        "status_counts": {name: len(catalog.statuses.rows(name)) for name in catalog.providers}})


async def _provider_page(request: Request, portal: auth.Portal, name: str,
                         errors: list[tuple[str, str]] | None = None,
                         form: dict[str, Any] | None = None) -> Response:
    channels = portal.runtime.channels

    def load() -> tuple[Any, list[Any], str | None]:
        config = channels.get("provider", name)
        return config, channels.statuses(name), channels.catalog().origin("provider", name)
    try:
        config, rows, origin = await run_in_threadpool(load)
    except channel_service.NotFound as exc:
        raise auth.PageNotFound() from exc
    shown = public(config, origin)
    return views.page(request, portal, "channels/provider.html", {
        "title": f"Provider {name}", "p": shown, "rows": rows, "actions": ACTIONS,
        "errors": errors or [], "form": {**shown, **(form or {})}, "editable": EDITABLE},
        status_code=422 if errors else 200)


@router.get("/providers/{name}")
async def provider(request: Request, name: str, portal: auth.PortalDep,
                   user: User = Operator) -> Response:
    return await _provider_page(request, portal, name)


@router.post("/providers/{name}")
async def update_provider(request: Request, name: str, portal: auth.PortalDep,
                          user: User = Operator) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        await run_in_threadpool(portal.runtime.channels.update, "provider", name,
                                patch_of(form))
    except channel_service.NotFound as exc:
        raise auth.PageNotFound() from exc
    except channel_service.Invalid as exc:
        return await _provider_page(request, portal, name, exc.errors, form)
    return views.flash_redirect(request, portal, f"/portal/ops/channels/providers/{name}",
                                f"Provider {name} is saved. Dispatchers use the new settings "
                                "from their next step.")


@router.post("/providers/{name}/statuses")
async def set_status(request: Request, name: str, portal: auth.PortalDep, user: User = Operator,
                     code: str = Form(""), action: str = Form(""),
                     description: str = Form("")) -> Response:
    url = f"/portal/ops/channels/providers/{name}"
    try:
        row = await run_in_threadpool(portal.runtime.channels.set_status, name, code.strip(),
                                      action, description.strip())
    except channel_service.NotFound as exc:
        raise auth.PageNotFound() from exc
    except channel_service.Invalid as exc:
        return await _provider_page(request, portal, name, exc.errors)
    return views.flash_redirect(request, portal, url, f"Code {row.code} now means "
                                f"“{row.action}” for {name}, from the next answer on.")


@router.post("/providers/{name}/statuses/delete")
async def delete_status(request: Request, name: str, portal: auth.PortalDep,
                        user: User = Operator, code: str = Form("")) -> Response:
    url = f"/portal/ops/channels/providers/{name}"
    try:
        await run_in_threadpool(portal.runtime.channels.delete_status, name, code)
    except channel_service.NotFound:
        return views.flash_redirect(request, portal, url, f"{name} has no row for code {code}; "
                                    "nothing was deleted.", "info")
    return views.flash_redirect(request, portal, url, f"The row for code {code} is deleted: "
                                f"{name}'s own reading of that answer applies again.")
