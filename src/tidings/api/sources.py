"""Sources and dead letters: ``GET /v1/sources``, ``/v1/dead-letters`` (list, show, replay).

Everything is scoped to the caller's tenant (its API key): a source shows
when it belongs to that tenant or to none (its records name their tenant);
a dead letter shows when its tenant is the caller's. A replay decodes the
stored payload again (or the one sent in the body, as raw bytes) with the
message type's current schema or layout, and commits it once: a second
replay answers 409.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from tidings.api.deps import RuntimeDep, TenantDep
from tidings.api.problems import Problem
from tidings.ingest import pipeline as pipelines
from tidings.ingest.deadletters import SqlDeadLetters
from tidings.ingest.sources.runner import pipeline_of
from tidings.ingest.sources.status import SqlSourceStatus

__all__ = ["router"]

router = APIRouter()
MAX_LIST = 500


@router.get("/v1/sources", summary="Each source's last run, counts and last error")
async def list_sources(runtime: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    rows = await run_in_threadpool(SqlSourceStatus(runtime.engine).list)
    configured = {s.name: s for s in runtime.project.config.sources}
    out = [row.as_json() for row in rows if row.tenant in (None, tenant)]
    seen = {row["name"] for row in out}
    out += [{"name": name, "type": cfg.type, "tenant": cfg.tenant, "runs": 0}
            for name, cfg in configured.items()
            if name not in seen and cfg.tenant in (None, tenant)]
    return {"sources": sorted(out, key=lambda r: r["name"])}


@router.get("/v1/dead-letters", summary="Dead letters of the caller's tenant, newest first")
async def list_dead_letters(runtime: RuntimeDep, tenant: TenantDep,
                            source: str | None = None, reason: str | None = None,
                            status: str | None = None,
                            limit: int = Query(default=100, ge=1, le=MAX_LIST),
                            before: int | None = None) -> dict[str, Any]:
    store = SqlDeadLetters(runtime.engine)
    rows = await run_in_threadpool(lambda: store.list(
        tenant, source=source, reason=reason, status=status, limit=limit, before_id=before))
    return {"dead_letters": [r.as_json() for r in rows]}


@router.get("/v1/dead-letters/{letter_id}", summary="One dead letter with its payload")
async def show_dead_letter(letter_id: int, runtime: RuntimeDep,
                           tenant: TenantDep) -> dict[str, Any]:
    letter = await run_in_threadpool(SqlDeadLetters(runtime.engine).get, letter_id, tenant)
    if letter is None:
        raise Problem(404, "not-found", "No such dead letter.")
    return letter.as_json(with_payload=True)


@router.post("/v1/dead-letters/{letter_id}/replay", status_code=200,
             summary="Replay once; the body, when not empty, replaces the stored payload")
async def replay_dead_letter(letter_id: int, request: Request, runtime: RuntimeDep,
                             tenant: TenantDep) -> dict[str, Any]:
    body = await request.body()
    if len(body) > runtime.settings.max_body_bytes:
        raise Problem(413, "payload-too-large", "The body is too large.")
    pipeline = pipeline_of(runtime)
    try:
        outcome = await run_in_threadpool(pipeline.replay, letter_id, tenant, body or None)
    except pipelines.AlreadyReplayed as exc:
        raise Problem(409, "not-replayable", "This dead letter is not open.", str(exc)) from exc
    except ValueError as exc:
        raise Problem(422, "cannot-replay", "This dead letter cannot be replayed as it is.",
                      str(exc)) from exc
    runtime.wake.set()
    if outcome.status == "dead_letter":
        raise Problem(422, "replay-refused", "The record was refused again.",
                      f"{outcome.reason} at {outcome.location}: {outcome.detail}")
    return outcome.as_json()
