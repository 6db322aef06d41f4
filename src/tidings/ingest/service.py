"""Validate, route and render a batch of events, then commit it at once."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from tidings.clock import Clock
from tidings.feedback.outgoing import OutgoingFeedback
from tidings.ids import random_hex
from tidings.outbox.messages import NewMessage
from tidings.project.compiled import CompiledProject
from tidings.render import headers as header_checks
from tidings.render.errors import RenderError
from tidings.rules.engine import Intent, RuleError
from tidings.storage import tables
from tidings.storage.bulk import insert_with_ids
from tidings.storage.outbox_sql import SqlOutbox

__all__ = ["Accepted", "EventError", "InboundEvent", "Ingestor", "Rejected"]


@dataclass(frozen=True, slots=True)
class InboundEvent:
    type: str
    data: Mapping[str, Any]
    external_id: str | None = None
    location: str = ""
    """Where the event sits in its source (JSON pointer, line, record): errors start here."""


@dataclass(frozen=True, slots=True)
class EventError:
    pointer: str
    detail: str
    code: str  # unknown_type | schema_violation | rule_error | render_error | header_injection


class Rejected(ValueError):
    def __init__(self, errors: list[EventError]) -> None:
        super().__init__("; ".join(f"{e.pointer or '/'}: {e.detail}" for e in errors))
        self.errors = errors


@dataclass(slots=True)
class Prepared:
    event: InboundEvent
    messages: list[NewMessage]
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Accepted:
    event_id: int
    external_id: str | None
    duplicate: bool
    message_ids: list[int]
    skipped: list[str]

    def as_json(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "id": self.external_id,
                "duplicate": self.duplicate, "messages": self.message_ids,
                "skipped": self.skipped}


OnCommit = Callable[[Connection, list[Accepted]], None]


class Ingestor:
    feedback: OutgoingFeedback | None = None
    """Tracked links, open pixel and return path per message (set by the runtime)."""

    def __init__(self, engine: Engine, project: CompiledProject, outbox: SqlOutbox,
                 clock: Clock) -> None:
        self.engine, self.project, self.outbox, self.clock = engine, project, outbox, clock
        # one batch of this process commits at a time; the others go on preparing
        self._committing = threading.Lock()

    def accept(self, tenant: str, events: Sequence[InboundEvent], source: str,
               on_commit: OnCommit | None = None) -> list[Accepted]:
        """Prepare every event, then commit all of them in one transaction."""
        prepared = self.prepare(tenant, events)
        for attempt in (1, 2):
            try:
                with self._committing, self.engine.begin() as conn:
                    accepted = self._commit(conn, tenant, prepared, source)
                    if on_commit is not None:
                        on_commit(conn, accepted)
                return accepted
            except IntegrityError:
                # a concurrent request inserted the same external id first: the
                # second pass finds it and answers as for a duplicate.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def prepare(self, tenant: str, events: Sequence[InboundEvent]) -> list[Prepared]:
        errors: list[EventError] = []
        prepared: list[Prepared] = []
        for event in events:
            try:
                prepared.append(self._prepare_one(tenant, event))
            except Rejected as exc:
                errors.extend(exc.errors)
        if errors:
            raise Rejected(errors)
        return prepared

    # -- one event ------------------------------------------------------------------------

    def _prepare_one(self, tenant: str, event: InboundEvent) -> Prepared:
        at = event.location
        key = self.project.schema_key(tenant, event.type)
        if key is None:
            raise Rejected([EventError(f"{at}/type", f"unknown message type {event.type!r} "
                                       f"for tenant {tenant!r}", "unknown_type")])
        violations = self.project.schemas.validate(key, event.data)
        if violations:
            raise Rejected([EventError(f"{at}/data{v.pointer}", v.detail, "schema_violation")
                            for v in violations])
        now = self.clock.now()
        try:
            intents, skipped = self.project.router.route(tenant, event.type, event.data, now)
        except RuleError as exc:
            raise Rejected([EventError(f"{at}/data", str(exc), "rule_error")]) from exc
        event_key = event.external_id or random_hex()
        messages = self._render_all(tenant, event, event_key, intents)
        return Prepared(event, messages, [f"{s.rule}: {s.reason}" for s in skipped])

    def _render_all(self, tenant: str, event: InboundEvent, event_key: str,
                    intents: list[Intent]) -> list[NewMessage]:
        rendered: dict[tuple[str, str], Any] = {}
        messages = []
        for intent in intents:
            cache_key = (intent.template, intent.locale)
            if cache_key not in rendered:
                rendered[cache_key] = self._render(tenant, event, intent)
            messages.append(self._message(tenant, event, event_key, intent, rendered[cache_key]))
        return messages

    def _render(self, tenant: str, event: InboundEvent, intent: Intent) -> Any:
        context = dict(event.data)
        context["tidings"] = {"type": event.type, "tenant": tenant, "locale": intent.locale,
                              "event_id": event.external_id}
        try:
            return self.project.templates.render(intent.template, context, intent.locale)
        except RenderError as exc:
            raise Rejected([EventError(f"{event.location}/data",
                                       f"template {intent.template!r}: {exc}",
                                       "render_error")]) from exc

    def _message(self, tenant: str, event: InboundEvent, event_key: str, intent: Intent,
                 rendered: Any) -> NewMessage:
        provider = self.project.config.provider(intent.provider)
        sender = provider.from_address or f"no-reply@{tenant}.invalid"
        self._check_headers(event, intent, sender, rendered.subject)
        message = NewMessage(
            dedupe_key=f"{event_key}|{intent.rule}|{intent.channel}|{intent.recipient.lower()}",
            channel=intent.channel, provider=intent.provider, recipient=intent.recipient,
            to=[intent.recipient], cc=intent.cc, bcc=intent.bcc, sender=sender,
            subject=rendered.subject, body_text=rendered.text, body_html=rendered.html,
            message_id_header=_message_id(sender), due_at=intent.due_at,
            expires_at=intent.expires_at or intent.due_at + provider.max_age, rule=intent.rule,
            message_type=event.type, template=intent.template,
            template_version=rendered.version, locale=rendered.locale)
        return self.feedback.prepare(message, provider) if self.feedback else message

    def _check_headers(self, event: InboundEvent, intent: Intent, sender: str,
                       subject: str) -> None:
        fields = [("To", a) for a in [intent.recipient]] + [("Cc", a) for a in intent.cc] \
            + [("Bcc", a) for a in intent.bcc] + [("From", sender), ("Subject", subject)]
        errors = []
        for name, value in fields:
            try:
                header_checks.check_header_value(name, value)
            except ValueError as exc:
                errors.append(EventError(f"{event.location}/data", f"{name}: {exc}",
                                         "header_injection"))
                continue
            if name != "Subject" and not _is_address(value):
                errors.append(EventError(f"{event.location}/data",
                                         f"{name}: {value!r} is not an email address",
                                         "schema_violation"))
        if errors:
            raise Rejected(errors)

    def _commit(self, conn: Connection, tenant: str, prepared: Sequence[Prepared],
                source: str) -> list[Accepted]:
        """Insert every new event and its messages with one statement per table."""
        now = self.clock.now()
        externals = [p.event.external_id for p in prepared if p.event.external_id]
        known = _existing_events(conn, tenant, externals)
        fresh = [p for p in _first_of_each(prepared) if p.event.external_id not in known]
        event_ids = _insert_events(conn, tenant, fresh, source, now)
        items = [(event_ids[id(p)], m) for p in fresh for m in p.messages]
        message_ids = iter(self.outbox.insert_many(conn, tenant, items, now))
        made = {id(p): Accepted(event_ids[id(p)], p.event.external_id, False,
                                [i for i in (next(message_ids) for _ in p.messages)
                                 if i is not None], p.skipped) for p in fresh}
        by_external = {a.external_id: a for a in made.values() if a.external_id}
        out = []
        for p in prepared:
            if id(p) in made:
                out.append(made[id(p)])
                continue
            # a duplicate: of a committed event, or of an earlier event in this batch
            key = p.event.external_id or ""  # only events with an external id repeat
            first = known.get(key) or by_external[key]
            out.append(Accepted(first.event_id, first.external_id, True, first.message_ids, []))
        return out


def _first_of_each(prepared: Sequence[Prepared]) -> list[Prepared]:
    seen: set[str] = set()
    out = []
    for p in prepared:
        key = p.event.external_id
        if key is not None and key in seen:
            continue
        if key is not None:
            seen.add(key)
        out.append(p)
    return out


def _insert_events(conn: Connection, tenant: str, fresh: Sequence[Prepared], source: str,
                   now: datetime) -> dict[int, int]:
    if not fresh:
        return {}
    e = tables.events
    rows = [{"tenant": tenant, "type": p.event.type, "external_id": p.event.external_id,
             "source": source, "payload": orjson.dumps(p.event.data), "received_at": now}
            for p in fresh]
    ids = insert_with_ids(conn, e, rows)
    return {id(p): int(i) for p, i in zip(fresh, ids, strict=True)}


def _existing_events(conn: Connection, tenant: str,
                     externals: Sequence[str]) -> dict[str, Accepted]:
    if not externals:
        return {}
    e, m = tables.events, tables.messages
    rows = conn.execute(select(e.c.id, e.c.external_id).where(
        e.c.tenant == tenant, e.c.external_id.in_(list(set(externals))))).all()
    if not rows:
        return {}
    ids = {r.id: r.external_id for r in rows}
    messages: dict[int, list[int]] = {i: [] for i in ids}
    for message_id, event_id in conn.execute(select(m.c.id, m.c.event_id).where(
            m.c.event_id.in_(list(ids))).order_by(m.c.id)):
        messages[event_id].append(message_id)
    return {ext: Accepted(i, ext, True, messages[i], []) for i, ext in ids.items()}


_PLAIN_ADDRESS = re.compile(r"[^\s<>()\[\]@,;:\\\"]+@[^\s<>()\[\]@,;:\\\"]+")


@functools.lru_cache(maxsize=4096)
def _is_address(value: str) -> bool:
    """An address, with or without a display name; bare ones skip the slow parser."""
    return _PLAIN_ADDRESS.fullmatch(value) is not None or "@" in parseaddr(value)[1]


@functools.lru_cache(maxsize=1024)
def _domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "tidings.invalid"


def _message_id(sender: str) -> str:
    return f"<{random_hex()}@{_domain(sender)}>"
