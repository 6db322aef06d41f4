"""Vendor status callbacks: Twilio's SMS delivery reports, signed, into the message timeline.

``POST /v1/callbacks/twilio/{provider}`` takes Twilio's form-encoded status
callback for a message sent through ``provider`` (a ``twilio`` provider: its
``status_callback`` setting points here). No API key: the request is
authenticated by ``X-Twilio-Signature``, checked with the provider's auth
token over the URL Twilio called (the provider's ``status_callback`` when set,
else ``TIDINGS_PUBLIC_URL`` + the path, else the URL as received) and the
form; a missing or wrong signature is 403.

The message is found by (provider, ``provider_message_id`` = ``MessageSid``).
Every callback becomes a ``feedback`` row of the message's timeline; a status
that :data:`tidings.providers.twilio.CALLBACK_STATUSES` maps to a state
(delivered, bounced) then moves the message through the outbox's legal
transitions (a move the state machine refuses is only noted). An unknown
MessageSid is answered 204 too, so Twilio does not retry a report we cannot use.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select

from tidings.api.deps import RuntimeDep
from tidings.api.problems import Problem
from tidings.domain.states import State, can_move
from tidings.providers import twilio
from tidings.runtime.core import Runtime
from tidings.storage import tables
from tidings.storage.outbox_sql import IllegalTransition, MessageNotFound, TransitionRow

__all__ = ["router"]

router = APIRouter()
log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Twilio-Signature"


@router.post("/v1/callbacks/twilio/{provider}", status_code=204, response_class=Response,
             summary="Twilio SMS status callback (signed with X-Twilio-Signature)")
async def twilio_status(provider: str, request: Request, runtime: RuntimeDep) -> Response:
    settings = _twilio_settings(runtime, provider)
    token = os.environ.get(str(settings.get("auth_token_env") or ""), "")
    if not token:
        raise Problem(503, "callback-not-configured", "The provider has no auth token.",
                      f"Set the environment variable named by {provider}'s auth_token_env.")
    form = await request.form()
    pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    url = _signed_url(runtime, request, settings)
    if not twilio.signature_valid(url, pairs, token, request.headers.get(SIGNATURE_HEADER, "")):
        raise Problem(403, "bad-signature", "The callback signature does not verify.")
    fields = dict(pairs)
    sid, status = fields.get("MessageSid", ""), fields.get("MessageStatus", "")
    if not sid or not status:
        raise Problem(400, "bad-callback", "MessageSid and MessageStatus are required.")
    await run_in_threadpool(_record, runtime, provider, sid, status, fields.get("ErrorCode"))
    return Response(status_code=204)


def _twilio_settings(runtime: Runtime, name: str) -> dict[str, Any]:
    config = _provider(runtime, name)
    if config is None or getattr(config, "type", None) != "twilio":
        raise Problem(404, "not-found", "No such Twilio provider.", f"No provider {name}.")
    settings = dict(config.settings)
    secret_env = getattr(config, "secret_env", None)
    if secret_env:
        settings.setdefault("auth_token_env", secret_env)
    return settings


def _provider(runtime: Runtime, name: str) -> Any:
    """The provider as the operator has it now (the catalog when there is one)."""
    channels = getattr(runtime, "channels", None)
    try:
        if channels is not None:
            return channels.catalog().provider(name)
        return runtime.project.config.provider(name)
    except (LookupError, StopIteration):
        return None


def _signed_url(runtime: Runtime, request: Request, settings: dict[str, Any]) -> str:
    configured = settings.get("status_callback")
    if configured:
        return str(configured)
    public = runtime.settings.public_url
    if public:
        query = f"?{request.url.query}" if request.url.query else ""
        return public.rstrip("/") + request.url.path + query
    return str(request.url)


def _record(runtime: Runtime, provider: str, sid: str, status: str,
            error_code: str | None) -> None:
    reading = twilio.read_callback(status, error_code)
    reason = f"twilio: {reading.reason if reading else status}"
    response = f"MessageStatus={status}" + (f" ErrorCode={error_code}" if error_code else "")
    actor = f"twilio:{provider}"
    now = runtime.clock.now()
    m = tables.messages
    with runtime.engine.begin() as conn:
        row = conn.execute(select(m.c.id, m.c.tenant, m.c.state).where(
            m.c.provider == provider, m.c.provider_message_id == sid)).first()
        if row is None:
            log.info("twilio %s: callback for unknown message %s (%s)", provider, sid, status)
            return
        current = State(row.state)
        target = reading.state if reading is not None else None
        moves = target is not None and target is not current and can_move(current, target)
        runtime.outbox.write_events(conn, [TransitionRow(
            row.id, current.value, target.value if moves and target else current.value,
            reason, response, actor)], now, kind="feedback")
    if moves and target is not None:
        try:
            runtime.outbox.move(row.tenant, row.id, target, now, actor, reason)
        except (IllegalTransition, MessageNotFound):  # another writer moved it meanwhile
            log.info("twilio %s: message %s moved meanwhile; %s only noted",
                     provider, row.id, status)
