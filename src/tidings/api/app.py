"""The FastAPI application, built around one ``Runtime``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import text

from tidings.api import callbacks, events, messages, problems, templates
from tidings.api import channels as channels_api
from tidings.api import feedback as feedback_api
from tidings.api import manual as manual_api
from tidings.api import reports as reports_api
from tidings.api import sla as sla_api
from tidings.api import sources as sources_api
from tidings.api import tracking as tracking_api
from tidings.observability import prometheus
from tidings.portal import web as portal_web
from tidings.runtime.core import Runtime

__all__ = ["create_app"]


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(title="Tidings", version="0.1.0",
                  description="Order events in; email, SMS, push and letters out.")
    app.state.runtime = runtime
    problems.install(app)
    for module in (events, messages, templates, callbacks):
        app.include_router(module.router)
    app.include_router(sources_api.router)
    app.include_router(sla_api.router)
    app.include_router(channels_api.router)
    app.include_router(manual_api.router)
    for feedback_module in (feedback_api, reports_api, tracking_api, prometheus):
        app.include_router(feedback_module.router)
    _event_schema(app)
    portal_web.mount(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> dict[str, Any]:
        def ping() -> None:
            with runtime.engine.connect() as conn:
                conn.execute(text("select 1"))
        try:
            await run_in_threadpool(ping)
        except Exception as exc:
            raise problems.Problem(503, "not-ready", "The database is not reachable.",
                                   type(exc).__name__) from exc
        return {"status": "ready"}

    return app


def _event_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {})["Event"] = {
            "type": "object", "required": ["type", "data"], "additionalProperties": False,
            "properties": {"type": {"type": "string"}, "data": {"type": "object"},
                           "id": {"type": "string", "maxLength": 255,
                                  "description": "the event's own id: a second event with "
                                                 "the same id is a duplicate"},
                           "occurred_at": {"type": "string", "format": "date-time"}}}
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
