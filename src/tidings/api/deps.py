"""Dependencies shared by routes: the runtime and the caller's tenant."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from tidings.api.problems import Problem
from tidings.runtime.core import Runtime

__all__ = ["RuntimeDep", "TenantDep"]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


async def _tenant(request: Request, runtime: RuntimeDep) -> str:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else \
        request.headers.get("x-api-key", "")
    tenant = await run_in_threadpool(runtime.keys.tenant_of, token) if token else None
    if tenant is None:
        raise Problem(401, "unauthorized", "A valid API key is required.",
                      "Send it as 'Authorization: Bearer <key>'.",
                      headers={"WWW-Authenticate": "Bearer"})
    return tenant


TenantDep = Annotated[str, Depends(_tenant)]
