"""Operators add a message by hand: recipients, subject, body, channel or provider, dates.

The form becomes the channels stage's ``ManualMessage`` and goes through the same
``manual.prepare`` / ``manual.enqueue`` as ``POST /v1/messages``: one transaction, status
queued, then sent like any other message. Every form carries a random key used as the
message's idempotency key, so a form sent twice (a double click, a reload) adds one message.
Refusals keep what was typed and name each field that needs a change.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from tidings.channels import manual
from tidings.portal import auth, views
from tidings.portal.accounts import Role, User

__all__ = ["message_of", "router"]

router = APIRouter(prefix="/portal/ops/messages/new")
Operator = Depends(auth.roles(Role.OPERATOR))
KEY_BYTES = 16
TEXT_FIELDS = ("subject", "body_html", "body_text", "communication_channel", "provider",
               "start_at", "end_at", "interval_min", "interval_max", "phone")


def _list(value: Any) -> list[str]:
    return [part.strip() for part in str(value or "").replace(";", ",").replace("\n", ",")
            .split(",") if part.strip()]


async def _attachments(form: FormData) -> list[dict[str, str]]:
    out = []
    for item in form.getlist("attachments"):
        if isinstance(item, UploadFile) and item.filename:
            data = await item.read()
            out.append({"filename": item.filename,
                        "content_type": item.content_type or "application/octet-stream",
                        "content": base64.b64encode(data).decode("ascii")})
    return out


def message_of(form: dict[str, Any], attachments: list[dict[str, str]]
               ) -> manual.ManualMessage:
    """The request the form describes; empty fields are left to the defaults."""
    doc: dict[str, Any] = {"to": _list(form.get("to")), "cc": _list(form.get("cc")),
                           "bcc": _list(form.get("bcc")), "attachments": attachments,
                           "list_unsubscribe": form.get("list_unsubscribe") == "yes"}
    for name in ("subject", "body_html", "body_text", "communication_channel", "provider",
                 "interval_min", "interval_max"):
        if form.get(name):
            doc[name] = form[name]
    for name in ("start_at", "end_at"):  # datetime-local fields, read as UTC
        if form.get(name):
            doc[name] = f"{form[name]}+00:00"
    if form.get("phone"):
        doc["payload"] = {"phone": form["phone"]}
    return manual.ManualMessage.model_validate(doc)


def _choices(portal: auth.Portal) -> dict[str, Any]:
    catalog = portal.runtime.channels.catalog()
    return {"providers": [(p.name, f"{p.name} ({p.channel}, {p.type})")
                          for p in catalog.providers.values()],
            "communication": [(c.name, f"{c.name} ({c.channel}: {' → '.join(c.providers)})")
                              for c in catalog.communication.values()]}


async def _page(request: Request, portal: auth.Portal, form: dict[str, Any],
                errors: list[tuple[str, str]], status_code: int = 200) -> Response:
    choices = await run_in_threadpool(_choices, portal)
    return views.page(request, portal, "messages/new.html",
                      {"title": "Add a message", "form": form, "errors": errors, **choices},
                      status_code=status_code)


@router.get("")
async def form(request: Request, portal: auth.PortalDep, user: User = Operator) -> Response:
    return await _page(request, portal, {"key": secrets.token_urlsafe(KEY_BYTES)}, [])


@router.post("")
async def add(request: Request, portal: auth.PortalDep, user: User = Operator) -> Response:
    submitted = await request.form()
    values = {k: v for k, v in submitted.items() if isinstance(v, str)}
    try:
        message = message_of(values, await _attachments(submitted))
    except ValidationError as exc:
        errors = [("/".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
        return await _page(request, portal, values, errors, 422)
    runtime = portal.runtime
    key = f"portal:{values.get('key') or secrets.token_urlsafe(KEY_BYTES)}"

    def enqueue() -> tuple[int, bool]:
        now = runtime.clock.now()
        prepared = manual.prepare(message, user.tenant, runtime.channels.catalog(), now, key)
        return manual.enqueue(runtime.engine, runtime.outbox, user.tenant, prepared, now)
    try:
        message_id, created = await run_in_threadpool(enqueue)
    except manual.Refused as exc:
        return await _page(request, portal, values, exc.errors, 422)
    runtime.wake.set()
    url = f"/portal/ops/messages/{message_id}"
    if not created:
        return views.flash_redirect(request, portal, url, f"This form was sent before: message "
                                    f"#{message_id} was added then, and nothing new was.", "info")
    return views.flash_redirect(request, portal, url, f"Message #{message_id} is queued. It is "
                                "sent at the next dispatcher step inside its window; this page "
                                "shows each step as it happens.")
