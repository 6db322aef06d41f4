"""The dead-letter store: inbound records that could not be decoded, validated or routed.

Nothing a source received is dropped: a record that fails becomes a row here,
in the same transaction as the good records of its batch, and its source is
acknowledged only after that commit. A row keeps the tenant (when known), the
source, the message type, the original payload (capped at
``MAX_PAYLOAD_BYTES``; ``truncated`` says when the cap cut it), the reason, the
place in the input (JSON pointer, XPath, line, record and field), the number of
attempts, and what replay needs besides the payload (``context``: an X12
envelope, a flat file's batch header).

``Reason`` is the ONE closed list of reasons (dashboards and alerts key on it;
adding one is a change of contract, made here and nowhere else):

| reason              | from        | meaning                                                   |
|---------------------|-------------|-----------------------------------------------------------|
| each ``ReasonCode`` | decoder     | malformed, schema_violation, unsafe_xml, too_large,       |
|                     |             | encoding, missing_field, bad_value, unknown_record, envelope |
| `unknown_type`      | ingest      | the record's event type is no message type of its tenant  |
| `unknown_tenant`    | extraction  | the tenant pulled out of the record is not in the project |
| `rule_error`        | rules       | a rule's condition failed on the event                    |
| `render_error`      | render      | a template failed on the event                            |
| `header_injection`  | ingest      | an address or subject would break the mail header         |
| `poison`            | source      | delivered ``max_deliveries`` times without being committed |

A row is ``open`` until a replay commits its event (``replayed``); a failed
replay counts an attempt and records the new reason, and the row stays open.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, select, update

from tidings.formats.errors import ReasonCode
from tidings.storage import tables_ingest

__all__ = [
    "MAX_PAYLOAD_BYTES", "DeadLetter", "NewDeadLetter", "Reason", "SqlDeadLetters",
]

MAX_PAYLOAD_BYTES = 256 * 1024
MAX_DETAIL_CHARS = 2000
MAX_KEY_CHARS = 255



class Reason(enum.StrEnum):
    """The closed list: every ``ReasonCode`` (same names and values), then the rest."""

    MALFORMED = ReasonCode.MALFORMED.value
    SCHEMA_VIOLATION = ReasonCode.SCHEMA_VIOLATION.value
    UNSAFE_XML = ReasonCode.UNSAFE_XML.value
    TOO_LARGE = ReasonCode.TOO_LARGE.value
    ENCODING = ReasonCode.ENCODING.value
    MISSING_FIELD = ReasonCode.MISSING_FIELD.value
    BAD_VALUE = ReasonCode.BAD_VALUE.value
    UNKNOWN_RECORD = ReasonCode.UNKNOWN_RECORD.value
    ENVELOPE = ReasonCode.ENVELOPE.value
    UNKNOWN_TYPE = "unknown_type"
    UNKNOWN_TENANT = "unknown_tenant"
    RULE_ERROR = "rule_error"
    RENDER_ERROR = "render_error"
    HEADER_INJECTION = "header_injection"
    POISON = "poison"


@dataclass(frozen=True, slots=True)
class NewDeadLetter:
    source: str
    reason: str
    location: str
    detail: str
    payload: bytes
    tenant: str | None = None
    message_type: str | None = None
    dedupe_key: str | None = None
    """Unique per source: the same failed record seen twice keeps one row."""
    context: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    tenant: str | None
    source: str
    message_type: str | None
    reason: str
    location: str
    detail: str
    payload: bytes
    payload_bytes: int
    truncated: bool
    context: dict[str, Any] | None
    status: str
    attempts: int
    created_at: datetime
    updated_at: datetime
    replayed_at: datetime | None
    replayed_event_id: int | None

    def as_json(self, with_payload: bool = False) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id, "tenant": self.tenant, "source": self.source,
            "message_type": self.message_type, "reason": self.reason,
            "location": self.location, "detail": self.detail,
            "payload_bytes": self.payload_bytes, "truncated": self.truncated,
            "status": self.status, "attempts": self.attempts,
            "created_at": self.created_at.isoformat(),
            "replayed_at": self.replayed_at.isoformat() if self.replayed_at else None,
            "replayed_event_id": self.replayed_event_id}
        if with_payload:
            doc["payload"] = self.payload.decode("utf-8", "replace")
            doc["context"] = self.context
        return doc


class SqlDeadLetters:
    """Dead letters in the ``dead_letters`` table (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, conn: Connection, letters: Sequence[NewDeadLetter], now: datetime) -> int:
        """Insert in the caller's transaction; a (source, dedupe key) already there is
        counted as one more attempt instead. Returns how many rows are new."""
        new = 0
        for letter in letters:
            if letter.dedupe_key is not None and self._seen(conn, letter, now):
                continue
            conn.execute(tables_ingest.dead_letters.insert().values(**_row(letter, now)))
            new += 1
        return new

    def list(self, tenant: str | None = None, *, source: str | None = None,
             reason: str | None = None, status: str | None = None, limit: int = 100,
             before_id: int | None = None) -> list[DeadLetter]:
        d = tables_ingest.dead_letters
        query = select(d).order_by(d.c.id.desc()).limit(limit)
        for column, value in ((d.c.tenant, tenant), (d.c.source, source),
                              (d.c.reason, reason), (d.c.status, status)):
            if value is not None:
                query = query.where(column == value)
        if before_id is not None:
            query = query.where(d.c.id < before_id)
        with self.engine.connect() as conn:
            return [_letter(row) for row in conn.execute(query)]

    def get(self, letter_id: int, tenant: str | None = None) -> DeadLetter | None:
        d = tables_ingest.dead_letters
        query = select(d).where(d.c.id == letter_id)
        if tenant is not None:
            query = query.where(d.c.tenant == tenant)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _letter(row) if row is not None else None

    def count(self, source: str | None = None) -> int:
        d = tables_ingest.dead_letters
        query = select(d.c.id)
        if source is not None:
            query = query.where(d.c.source == source)
        with self.engine.connect() as conn:
            return len(conn.execute(query).all())

    def mark_replayed(self, conn: Connection, letter_id: int, event_id: int,
                      now: datetime) -> bool:
        """Close an open row (in the replay's transaction); False if it was not open."""
        d = tables_ingest.dead_letters
        done = conn.execute(update(d).where(d.c.id == letter_id, d.c.status == "open").values(
            status="replayed", replayed_at=now, replayed_event_id=event_id, updated_at=now,
            attempts=d.c.attempts + 1))
        return done.rowcount == 1

    def mark_failed(self, letter_id: int, reason: str, location: str, detail: str,
                    now: datetime) -> None:
        d = tables_ingest.dead_letters
        with self.engine.begin() as conn:
            conn.execute(update(d).where(d.c.id == letter_id).values(
                reason=reason, location=location, detail=detail[:MAX_DETAIL_CHARS],
                attempts=d.c.attempts + 1, updated_at=now))

    def _seen(self, conn: Connection, letter: NewDeadLetter, now: datetime) -> bool:
        d = tables_ingest.dead_letters
        key = (letter.dedupe_key or "")[:MAX_KEY_CHARS]
        done = conn.execute(update(d).where(d.c.source == letter.source, d.c.dedupe_key == key)
                            .values(updated_at=now))
        return done.rowcount > 0


def _row(letter: NewDeadLetter, now: datetime) -> dict[str, Any]:
    return {
        "tenant": letter.tenant, "source": letter.source, "message_type": letter.message_type,
        "reason": str(letter.reason), "location": letter.location or "input",
        "detail": letter.detail[:MAX_DETAIL_CHARS], "payload": letter.payload[:MAX_PAYLOAD_BYTES],
        "payload_bytes": len(letter.payload), "truncated": len(letter.payload) > MAX_PAYLOAD_BYTES,
        "context": orjson.dumps(letter.context).decode() if letter.context else None,
        "dedupe_key": letter.dedupe_key[:MAX_KEY_CHARS] if letter.dedupe_key else None,
        "status": "open", "attempts": 1, "created_at": now, "updated_at": now}


def _letter(row: Any) -> DeadLetter:
    return DeadLetter(
        row.id, row.tenant, row.source, row.message_type, row.reason, row.location, row.detail,
        bytes(row.payload), row.payload_bytes, bool(row.truncated),
        orjson.loads(row.context) if row.context else None, row.status, row.attempts,
        row.created_at, row.updated_at, row.replayed_at, row.replayed_event_id)
