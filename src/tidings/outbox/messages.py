"""Rows going into the outbox and batches coming out of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tidings.dispatch.extras import MessageExtras
from tidings.domain.states import State

__all__ = ["Claimed", "Decision", "NewMessage"]


@dataclass(frozen=True, slots=True)
class NewMessage:
    dedupe_key: str
    channel: str
    provider: str
    recipient: str
    to: list[str]
    sender: str
    subject: str
    body_text: str
    message_id_header: str
    due_at: datetime
    body_html: str | None = None
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    expires_at: datetime | None = None
    rule: str | None = None
    message_type: str | None = None
    template: str | None = None
    template_version: str | None = None
    locale: str | None = None
    state: State = State.QUEUED


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message leased to one dispatcher; ``attempts`` counts this try."""

    id: int
    tenant: str
    provider: str
    sender: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    subject: str
    body_text: str
    body_html: str | None
    headers: list[tuple[str, str]]
    message_id_header: str
    attempts: int
    created_at: datetime
    expires_at: datetime | None
    extras: MessageExtras | None = None
    """Read with the claim (channel, failover chain, rule, payload); None: ask for them."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What the dispatcher does with a message after one try."""

    state: State
    reason: str
    response: str = ""
    due_at: datetime | None = None
    provider_id: str | None = None
    """The provider's own id of the message (SES MessageId, Twilio SID): feedback finds
    the message by it."""
