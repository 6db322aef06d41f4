"""``POST /v1/messages``: a message added by hand, straight into the queue.

The body is a :class:`~tidings.channels.manual.ManualMessage` (JSON, at most
``MAX_BODY_BYTES``: attachments travel base64-encoded). The answer is 201 with
the message's id, state ``queued`` and Message-ID, after the commit. With an
``Idempotency-Key`` the key becomes the message's dedupe key: sending the same
key again creates nothing and answers 200 with the first message's id
(``Idempotent-Replayed: true``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from tidings.api import bodies
from tidings.api.deps import RuntimeDep, TenantDep
from tidings.api.problems import Problem
from tidings.channels import manual

__all__ = ["MAX_BODY_BYTES", "router"]

router = APIRouter()
MAX_BODY_BYTES = 12_000_000
MAX_KEY_CHARS = 200


@router.post("/v1/messages", status_code=201, summary="Add a message by hand (status New)",
             responses={201: {}, 200: {}, 413: {}, 415: {}, 422: {}},
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": manual.ManualMessage.model_json_schema()}}}})
async def add_message(request: Request, runtime: RuntimeDep, tenant: TenantDep,
                      idempotency_key: str | None = Header(default=None)) -> JSONResponse:
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_KEY_CHARS:
        raise Problem(400, "bad-idempotency-key",
                      f"Idempotency-Key must be 1-{MAX_KEY_CHARS} characters.")
    message = _parse(await bodies.read_json(request, MAX_BODY_BYTES))

    def add() -> tuple[int, bool]:
        now = runtime.clock.now()
        prepared = manual.prepare(message, tenant, runtime.channels.catalog(), now,
                                  idempotency_key)
        return manual.enqueue(runtime.engine, runtime.outbox, tenant, prepared, now)

    try:
        message_id, created = await run_in_threadpool(add)
    except manual.Refused as exc:
        raise Problem(422, "invalid-message", "The message is not valid; nothing was queued.",
                      errors=[{"pointer": p, "detail": d} for p, d in exc.errors]) from exc
    row = await run_in_threadpool(runtime.outbox.get, tenant, message_id)
    runtime.wake.set()
    body = {"id": message_id, "state": row["state"], "message_id": row["message_id_header"],
            "provider": row["provider"], "due_at": row["due_at"].isoformat()}
    return JSONResponse(body, status_code=201 if created else 200,
                        headers={} if created else {"Idempotent-Replayed": "true"})


def _parse(body: bytes) -> manual.ManualMessage:
    try:
        return manual.ManualMessage.model_validate_json(body)
    except ValidationError as exc:
        errors: list[dict[str, Any]] = [
            {"pointer": "/" + "/".join(str(p) for p in e["loc"]), "detail": e["msg"]}
            for e in exc.errors()]
        raise Problem(422, "invalid-message", "The message is not valid; nothing was queued.",
                      errors=errors) from exc
