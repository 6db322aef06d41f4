"""Messages added by hand: an operator puts a message straight into the queue.

No inbound event, no rule, no template: the operator gives the recipients,
subject, body (HTML and/or text; text is derived from HTML when missing),
attachments, the communication channel and/or provider, a start and end date
and the message's own daily window (``interval_min``/``interval_max``, UTC,
HH:MM:SS). The message is created ``queued`` (the issue's status *New*) and
is then sent like any other: held until its start date and inside both its
own window and its provider's, in bulk steps of the provider's size, with
failover along its communication channel.

``prepare`` checks everything and builds the row; ``enqueue`` writes it in one
transaction (the message, its timeline's first event, its channel columns).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time
from email.utils import parseaddr
from typing import Any, Literal

import inscriptis
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, select

from tidings.channels.attachments import AttachmentIn, checked
from tidings.channels.catalog import Catalog
from tidings.outbox.messages import NewMessage
from tidings.project.model import CommunicationChannelConfig, ProviderConfig
from tidings.render import headers as header_checks
from tidings.storage import channels_sql, tables
from tidings.storage.outbox_sql import SqlOutbox

__all__ = ["ManualMessage", "Prepared", "Refused", "enqueue", "prepare"]

MAX_RECIPIENTS = 100
RESERVED_PAYLOAD_KEYS = frozenset({"attachments", "list_unsubscribe", "properties", "entity"})


class ManualMessage(BaseModel):
    """The request: ``POST /v1/messages`` and ``tidings messages add``."""

    model_config = ConfigDict(extra="forbid")
    to: list[str] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    cc: list[str] = Field(default=[], max_length=MAX_RECIPIENTS)
    bcc: list[str] = Field(default=[], max_length=MAX_RECIPIENTS)
    subject: str = Field(default="", max_length=998)
    body_html: str | None = None
    body_text: str | None = None
    attachments: list[AttachmentIn] = []
    communication_channel: str | None = None
    """None: the provider's, or the first communication channel of the email channel."""
    provider: str | None = None
    """None: the communication channel's primary provider."""
    start_at: datetime | None = None
    end_at: datetime | None = None
    interval_min: time | None = None
    interval_max: time | None = None
    list_unsubscribe: bool = False
    """The recipient subscribed: add one-click unsubscribe headers (RFC 8058)."""
    properties: dict[str, Any] = {}
    """Extended properties of the communication channel's entity, sent as JSON."""
    payload: dict[str, Any] = {}
    """Channel data: ``phone``, ``subscription`` (push), ``address`` (print)..."""
    status: Literal["new"] = "new"


class Refused(ValueError):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{p}: {d}" for p, d in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Prepared:
    message: NewMessage
    communication_channel: str | None
    window: tuple[str, str] | None
    payload: dict[str, Any]


def prepare(request: ManualMessage, tenant: str, catalog: Catalog, now: datetime,
            key: str | None = None) -> Prepared:
    """Check a hand-added message and build its row; raises ``Refused`` with pointers."""
    comm, provider = _route(request, catalog)
    kind = catalog.kind_of(provider.channel)
    errors = _dates(request, now) + _addresses(request, kind) + _bodies(request, kind)
    errors += [(f"/payload/{key}", "set by its own field, not in payload")
               for key in sorted(RESERVED_PAYLOAD_KEYS & set(request.payload))]
    stored, problems = checked(request.attachments)
    errors += [(p.pointer, p.detail) for p in problems]
    if stored and kind != "email":
        errors.append(("/attachments", f"a {kind} message takes no attachments"))
    if errors:
        raise Refused(errors)
    return Prepared(_message(request, provider, now, key),
                    comm.name if comm else None, _window(request),
                    _payload(request, comm, stored))


def enqueue(engine: Engine, outbox: SqlOutbox, tenant: str, prepared: Prepared,
            now: datetime) -> tuple[int, bool]:
    """Insert the message: (its id, True); a repeated key gives (the first one's id, False)."""
    with engine.begin() as conn:
        (message_id,) = outbox.insert(conn, tenant, None, [prepared.message], now)
        if message_id is None:
            m = tables.messages
            return int(conn.execute(select(m.c.id).where(
                m.c.tenant == tenant, m.c.dedupe_key == prepared.message.dedupe_key)
            ).scalar_one()), False
        window = prepared.window or (None, None)
        channels_sql.set_message_extras(
            conn, message_id, communication_channel=prepared.communication_channel,
            window_start=window[0], window_end=window[1], payload=prepared.payload)
    return message_id, True


def _route(request: ManualMessage,
           catalog: Catalog) -> tuple[CommunicationChannelConfig | None, ProviderConfig]:
    comm = catalog.communication.get(request.communication_channel or "")
    if request.communication_channel and comm is None:
        raise Refused([("/communication_channel",
                        f"no communication channel {request.communication_channel!r}")])
    name = request.provider or (comm.providers[0] if comm else None)
    if name is None:
        comm = catalog.default_communication("email")
        name = comm.providers[0] if comm else None
    if name is None or name not in catalog.providers:
        raise Refused([("/provider", f"no provider {name!r}" if name else
                        "give a provider or a communication channel")])
    if comm is not None and name not in comm.providers:
        raise Refused([("/provider", f"provider {name!r} is not in communication channel "
                                     f"{comm.name!r}")])
    if comm is None:
        comm = next((c for c in catalog.communication.values() if name in c.providers), None)
    return comm, catalog.providers[name]


def _dates(request: ManualMessage, now: datetime) -> list[tuple[str, str]]:
    errors = [(f"/{key}", "needs a UTC offset") for key in ("start_at", "end_at")
              if (value := getattr(request, key)) is not None and value.tzinfo is None]
    if errors:
        return errors
    start, end = request.start_at or now, request.end_at
    if end is not None and end <= max(start, now):
        errors.append(("/end_at", "must be after the start date and in the future"))
    if (request.interval_min is None) != (request.interval_max is None):
        errors.append(("/interval_max", "give interval_min and interval_max together"))
    return errors


def _addresses(request: ManualMessage, kind: str) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    for field in ("to", "cc", "bcc"):
        for i, value in enumerate(getattr(request, field)):
            try:
                if kind == "email":
                    header_checks.parse_address(value, field)
                else:
                    header_checks.check_header_value(field, value)
            except ValueError as exc:
                errors.append((f"/{field}/{i}", str(exc)))
    if kind != "email" and (request.cc or request.bcc):
        errors.append(("/cc", f"a {kind} message has no cc or bcc"))
    return errors


def _bodies(request: ManualMessage, kind: str) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if not (request.body_text or request.body_html):
        errors.append(("/body_text", "give body_text, body_html or both"))
    elif kind != "email" and not request.body_text:
        errors.append(("/body_text", f"a {kind} message needs body_text"))
    try:
        header_checks.check_header_value("Subject", request.subject)
    except ValueError as exc:
        errors.append(("/subject", str(exc)))
    return errors


def _message(request: ManualMessage, provider: ProviderConfig, now: datetime,
             key: str | None) -> NewMessage:
    sender = provider.from_address or "no-reply@tidings.invalid"
    domain = parseaddr(sender)[1].rpartition("@")[2] or "tidings.invalid"
    due = max(now, request.start_at or now)
    text = request.body_text
    if text is None:
        text = inscriptis.get_text(request.body_html or "")
    return NewMessage(
        dedupe_key=f"manual|{key or uuid.uuid4().hex}", channel=provider.channel,
        provider=provider.name, recipient=request.to[0], to=list(request.to),
        cc=list(request.cc), bcc=list(request.bcc), sender=sender, subject=request.subject,
        body_text=text, body_html=request.body_html,
        message_id_header=f"<{uuid.uuid4().hex}@{domain}>", due_at=due,
        expires_at=request.end_at or due + provider.max_age)


def _window(request: ManualMessage) -> tuple[str, str] | None:
    if request.interval_min is None or request.interval_max is None:
        return None
    return (request.interval_min.strftime("%H:%M:%S"),
            request.interval_max.strftime("%H:%M:%S"))


def _payload(request: ManualMessage, comm: CommunicationChannelConfig | None,
             attachments: list[dict[str, str]]) -> dict[str, Any]:
    payload: dict[str, Any] = dict(request.payload)
    if attachments:
        payload["attachments"] = attachments
    if request.list_unsubscribe:
        payload["list_unsubscribe"] = True
    if request.properties:
        payload["properties"] = request.properties
        payload["entity"] = comm.entity if comm else None
    return payload
