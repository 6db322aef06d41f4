"""The operator's objects over HTTP: channels, providers, communication channels, statuses.

    GET    /v1/{kind}                 list            kind: channels | providers |
    POST   /v1/{kind}                 create (201)          communication-channels
    GET    /v1/{kind}/{name}          read
    PATCH  /v1/{kind}/{name}          change some fields
    DELETE /v1/{kind}/{name}          delete (409 while in use)
    GET    /v1/providers/{name}/statuses
    PUT    /v1/providers/{name}/statuses/{code}    {"action": ..., "description": ...}
    DELETE /v1/providers/{name}/statuses/{code}

Writes here are operator edits (origin ``operator``): a later ``tidings sync``
leaves them alone. Times and durations are HH:MM:SS (UTC); secrets appear only
as environment variable names. Every running dispatcher picks a change up at
its next step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Response
from fastapi.concurrency import run_in_threadpool

from tidings.api.deps import RuntimeDep, TenantDep
from tidings.api.problems import Problem
from tidings.channels import public, service

__all__ = ["router"]

router = APIRouter()
PATHS = {"channels": "channel", "providers": "provider",
         "communication-channels": "communication"}
_LISTS = {"channels": "channels", "providers": "providers",
          "communication-channels": "communication_channels"}


def _problem(exc: service.ChannelError) -> Problem:
    if isinstance(exc, service.NotFound):
        return Problem(404, "not-found", "No such object.", str(exc))
    if isinstance(exc, service.Conflict):
        return Problem(409, "conflict", "The change conflicts with what exists.", str(exc))
    assert isinstance(exc, service.Invalid)
    return Problem(422, "invalid-request", "The object is not valid.",
                   errors=[{"pointer": p, "detail": d} for p, d in exc.errors])


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return await run_in_threadpool(fn, *args)
    except service.ChannelError as exc:
        raise _problem(exc) from exc


def _view(runtime: Any, kind: str, config: Any) -> dict[str, Any]:
    return public.public(config, runtime.channels.catalog().origin(kind, config.name))


def _routes(path: str, kind: str) -> None:
    label = service.LABELS[kind]

    @router.get(f"/v1/{path}", summary=f"List {label}s", name=f"list_{kind}")
    async def list_all(runtime: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
        items = await _call(runtime.channels.objects, kind)
        return {_LISTS[path]: [_view(runtime, kind, c) for c in items]}

    @router.post(f"/v1/{path}", status_code=201, summary=f"Create a {label}",
                 name=f"create_{kind}")
    async def create(runtime: RuntimeDep, tenant: TenantDep,
                     body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        config = await _call(runtime.channels.create, kind, body)
        return _view(runtime, kind, config)

    @router.get(f"/v1/{path}/{{name}}", summary=f"One {label}", name=f"get_{kind}")
    async def get(name: str, runtime: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
        return _view(runtime, kind, await _call(runtime.channels.get, kind, name))

    @router.patch(f"/v1/{path}/{{name}}", summary=f"Change a {label}", name=f"update_{kind}")
    async def update(name: str, runtime: RuntimeDep, tenant: TenantDep,
                     body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        config = await _call(runtime.channels.update, kind, name, body)
        return _view(runtime, kind, config)

    @router.delete(f"/v1/{path}/{{name}}", status_code=204, summary=f"Delete a {label}",
                   name=f"delete_{kind}")
    async def remove(name: str, runtime: RuntimeDep, tenant: TenantDep) -> Response:
        await _call(runtime.channels.delete, kind, name)
        return Response(status_code=204)


for _path, _kind in PATHS.items():
    _routes(_path, _kind)


@router.get("/v1/providers/{name}/statuses", summary="A provider's status table")
async def statuses(name: str, runtime: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    rows = await _call(runtime.channels.statuses, name)
    return {"provider": name, "statuses": [public.public_status(name, r) for r in rows]}


@router.put("/v1/providers/{name}/statuses/{code}", summary="Set one status row")
async def set_status(name: str, code: str, runtime: RuntimeDep, tenant: TenantDep,
                     body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    action, description = body.get("action"), body.get("description", "")
    if not isinstance(action, str) or not isinstance(description, str):
        raise Problem(422, "invalid-request", "The status row is not valid.",
                      errors=[{"pointer": "/action", "detail": "a string is required"}])
    row = await _call(runtime.channels.set_status, name, code, action, description)
    return public.public_status(name, row)


@router.delete("/v1/providers/{name}/statuses/{code}", status_code=204,
               summary="Delete one status row (the provider's own reading applies)")
async def delete_status(name: str, code: str, runtime: RuntimeDep,
                        tenant: TenantDep) -> Response:
    await _call(runtime.channels.delete_status, name, code)
    return Response(status_code=204)
