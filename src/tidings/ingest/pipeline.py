"""Decoded records -> ``InboundEvent`` -> ``Ingestor.accept``, dead letters for the rest.

Every source hands its input here as a ``Job`` (who, which message type, the
key its records are known by) and an iterable of decoded records, and
acknowledges its input only after ``run`` returns. For each record:

1. a ``RecordError`` from the decoder becomes a dead letter at once;
2. a ``DecodedRecord`` is turned into an event with the message type's
   ``extract`` pointers: event type, external id (else ``<job key>:<record
   number>``, so a file or message read twice imports each record once),
   tenant (checked against the project), recipients (gathered into
   ``/recipients``) and the payload;
3. events are committed ``job.batch_size`` at a time, per tenant, in ONE
   transaction with the dead letters gathered so far. When ``accept`` refuses
   a batch, the events its errors point at become dead letters and the others
   are committed without them: a good record is never lost because a bad one
   sits beside it.

A whole-input failure raised by the decoder (unparseable XML, unreadable
X12 ISA) becomes one dead letter for the input. Problems of the definition
itself (a broken layout or XSD) are raised: they are the operator's to fix,
and the input stays unacknowledged.

Memory stays flat: records are read lazily and each batch is dropped once
committed; outcomes go to ``report`` as they happen, never into a list.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection

from tidings.clock import Clock
from tidings.formats import errors, records
from tidings.ingest.deadletters import NewDeadLetter, Reason, SqlDeadLetters
from tidings.ingest.service import Accepted, EventError, InboundEvent, Ingestor, Rejected
from tidings.ingest.sources.decoding import Decoder
from tidings.project.compiled import CompiledProject
from tidings.project.model import MessageTypeConfig
from tidings.rules import pointer

__all__ = [
    "DEFAULT_BATCH_SIZE", "AlreadyReplayed", "Job", "Outcome", "Pipeline", "Tally",
    "UnknownMessageType",
]

DEFAULT_BATCH_SIZE = 500
MAX_EXTERNAL_ID_CHARS = 255
DECODED = "decoded"  # context flag: the payload is the decoded record as JSON


class UnknownMessageType(errors.DefinitionError):
    """A source names a message type the project does not define."""


class AlreadyReplayed(ValueError):
    """The dead letter was replayed already (or does not exist)."""


@dataclass(frozen=True, slots=True)
class Job:
    source: str
    message_type: str
    tenant: str | None
    key: str
    """What this input is known by (``<source>:<sha256>`` of a file, a message id)."""
    batch_size: int = DEFAULT_BATCH_SIZE
    context: dict[str, Any] | None = None
    """The input's envelope for replays (``Decoder.envelope``)."""
    head: Callable[[], bytes] | None = None
    """The start of the input, kept in a dead letter when the whole input fails."""


@dataclass(frozen=True, slots=True)
class Outcome:
    number: int
    location: str
    status: str  # accepted | duplicate | dead_letter
    event_id: int | None = None
    reason: str | None = None
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in (("record", self.number), ("location", self.location),
                                  ("status", self.status), ("event_id", self.event_id),
                                  ("reason", self.reason), ("detail", self.detail)) if v}


@dataclass(slots=True)
class Tally:
    accepted: int = 0
    duplicates: int = 0
    dead_lettered: int = 0

    def add(self, other: Tally) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.dead_lettered += other.dead_lettered

    @property
    def records(self) -> int:
        return self.accepted + self.duplicates + self.dead_lettered


Report = Callable[[Outcome], None]


@dataclass(slots=True)
class _Pending:
    event: InboundEvent
    number: int
    payload: bytes


@dataclass(slots=True)
class _Batch:
    groups: dict[str, list[_Pending]] = field(default_factory=dict)
    letters: list[tuple[NewDeadLetter, int]] = field(default_factory=list)
    size: int = 0


class Pipeline:
    def __init__(self, ingestor: Ingestor, dead_letters: SqlDeadLetters,
                 project: CompiledProject, clock: Clock) -> None:
        self.ingestor, self.dead_letters = ingestor, dead_letters
        self.project, self.clock = project, clock
        self._decoders: dict[str, Decoder] = {}

    def message_type(self, name: str, tenant: str | None) -> MessageTypeConfig:
        found = next((m for m in self.project.config.message_types
                      if m.name == name and (tenant is None or m.tenant in (None, tenant))), None)
        if found is None:
            raise UnknownMessageType(f"no message type {name!r} for tenant {tenant!r}")
        return found

    def decoder(self, name: str, tenant: str | None) -> Decoder:
        key = f"{tenant}:{name}"
        if key not in self._decoders:
            self._decoders[key] = Decoder.for_type(self.project.root,
                                                   self.message_type(name, tenant))
        return self._decoders[key]

    def run(self, items: Iterable[records.Decoded], job: Job,
            report: Report | None = None) -> Tally:
        """Take every record (see the module doc); return the counts."""
        mtype = self.message_type(job.message_type, job.tenant)
        tally, batch, number = Tally(), _Batch(), 0
        try:
            for item in items:
                number += 1
                self._take(item, number, job, mtype, batch)
                if batch.size >= job.batch_size:
                    self._flush(batch, job, tally, report)
                    batch = _Batch()
        except errors.DecodeError as exc:
            head = job.head() if job.head is not None else b""
            self._letter(batch, job, exc.reason, exc.location, exc.detail, head,
                         number + 1, f"{job.key}:input")
        self._flush(batch, job, tally, report)
        return tally

    def message(self, job: Job, body: bytes, deliveries: int = 1,
                max_deliveries: int | None = None) -> Tally:
        """Take one queue message: decoded whole, or dead-lettered as ``poison`` when it
        was delivered more than ``max_deliveries`` times without being committed."""
        if max_deliveries is not None and deliveries > max_deliveries:
            batch, tally = _Batch(), Tally()
            self._letter(batch, job, Reason.POISON, "message",
                         f"delivered {deliveries} times without a commit (limit "
                         f"{max_deliveries})", body, 1, f"{job.key}:poison")
            self._flush(batch, job, tally, None)
            return tally
        decoder = self.decoder(job.message_type, job.tenant)
        if job.context is None:
            job = dataclasses.replace(job, context=decoder.envelope(body), head=lambda: body)
        return self.run(decoder.decode_bytes(body), job)

    def messages(self, items: Sequence[tuple[Job, bytes, int]],
                 max_deliveries: int | None = None) -> Tally:
        """Several queue messages of ONE source, committed together (group commit).

        Each message keeps its own key (so its own external ids and dead letters);
        the batch shares one transaction, so a queue drains at the speed of batches,
        not of one synced commit per message.
        """
        if not items:
            return Tally()
        first = items[0][0]
        mtype = self.message_type(first.message_type, first.tenant)
        decoder = self.decoder(first.message_type, first.tenant)
        tally, batch = Tally(), _Batch()
        for job, body, deliveries in items:
            if max_deliveries is not None and deliveries > max_deliveries:
                self._letter(batch, job, Reason.POISON, "message",
                             f"delivered {deliveries} times without a commit (limit "
                             f"{max_deliveries})", body, 1, f"{job.key}:poison")
                continue
            job = dataclasses.replace(job, context=decoder.envelope(body))
            number = 0
            try:
                for item in decoder.decode_bytes(body):
                    number += 1
                    self._take(item, number, job, mtype, batch)
            except errors.DecodeError as exc:
                self._letter(batch, job, exc.reason, exc.location, exc.detail, body,
                             number + 1, f"{job.key}:input")
        self._flush(batch, first, tally, None)
        return tally

    # -- one record -------------------------------------------------------------------

    def _take(self, item: records.Decoded, number: int, job: Job, mtype: MessageTypeConfig,
              batch: _Batch) -> None:
        if isinstance(item, records.RecordError):
            raw = item.raw.encode("utf-8") if isinstance(item.raw, str) else item.raw
            self._letter(batch, job, item.reason, item.location, item.error.detail, raw,
                         number, f"{job.key}:{number}")
            return
        data = records.jsonable(item.data)
        try:
            tenant, event = self._event(data, item.location, f"{job.key}:{number}", job, mtype)
        except Rejected as exc:
            first = exc.errors[0]
            self._letter(batch, job, first.code, first.pointer, first.detail,
                         orjson.dumps(data), number, f"{job.key}:{number}", decoded=True)
            return
        batch.groups.setdefault(tenant, []).append(_Pending(event, number, orjson.dumps(data)))
        batch.size += 1

    def _event(self, data: dict[str, Any], location: str, key: str, job: Job,
               mtype: MessageTypeConfig) -> tuple[str, InboundEvent]:
        how = mtype.extract
        tenant = _text(data, how.tenant) if how.tenant else job.tenant or mtype.tenant
        if tenant is None or tenant not in {t.id for t in self.project.config.tenants}:
            raise Rejected([EventError(f"{location}{how.tenant or ''}",
                                       f"tenant {tenant!r} is not in the project",
                                       Reason.UNKNOWN_TENANT)])
        kind = _text(data, how.type) if how.type else mtype.name
        if not kind:
            raise Rejected([EventError(f"{location}{how.type}", "no event type here",
                                       Reason.MISSING_FIELD)])
        external = _text(data, how.external_id) if how.external_id else key
        if not external:
            raise Rejected([EventError(f"{location}{how.external_id}", "no external id here",
                                       Reason.MISSING_FIELD)])
        payload = pointer.resolve(data, how.data) if how.data else data
        if not isinstance(payload, dict):
            raise Rejected([EventError(f"{location}{how.data}", "the event data must be an "
                                       "object", Reason.BAD_VALUE)])
        if how.recipients:
            payload = {**payload, "recipients": _recipients(data, how.recipients)}
        return tenant, InboundEvent(kind, payload, external[:MAX_EXTERNAL_ID_CHARS], location)

    def _letter(self, batch: _Batch, job: Job, reason: str, location: str, detail: str,
                payload: bytes, number: int, key: str, decoded: bool = False) -> None:
        context = {DECODED: True} if decoded else job.context
        batch.letters.append((NewDeadLetter(
            job.source, str(reason), location, detail, payload, job.tenant, job.message_type,
            key, context), number))

    # -- one batch --------------------------------------------------------------------

    def _flush(self, batch: _Batch, job: Job, tally: Tally, report: Report | None) -> None:
        outcomes: list[Outcome] = []
        letters = list(batch.letters)
        for tenant, pending in batch.groups.items():
            letters = self._commit(tenant, pending, letters, job, tally, outcomes.append)
        if letters:
            with self.ingestor.engine.begin() as conn:
                self._write_letters(conn, letters, tally, outcomes.append)
        if report is not None:
            for outcome in sorted(outcomes, key=lambda o: o.number):
                report(outcome)

    def _commit(self, tenant: str, pending: list[_Pending],
                letters: list[tuple[NewDeadLetter, int]], job: Job, tally: Tally,
                report: Report | None) -> list[tuple[NewDeadLetter, int]]:
        """Commit ``pending`` (and ``letters``); return the letters still to write."""
        written: list[bool] = []
        while pending:
            try:
                accepted = self.ingestor.accept(
                    tenant, [p.event for p in pending], job.source,
                    self._letters_on_commit(letters, tally, report, written))
            except Rejected as exc:
                pending, refused = _split(pending, exc.errors)
                letters = letters + [self._refusal(p, errs, job) for p, errs in refused]
                continue
            _count(pending, accepted, tally, report)
            return [] if written else letters
        return letters

    def _letters_on_commit(self, letters: list[tuple[NewDeadLetter, int]], tally: Tally,
                           report: Report | None, written: list[bool],
                           ) -> Callable[[Connection, list[Accepted]], None]:
        def on_commit(conn: Connection, _accepted: list[Accepted]) -> None:
            self._write_letters(conn, letters, tally, report)
            written.append(True)

        return on_commit

    def _refusal(self, pending: _Pending, errs: Sequence[EventError],
                 job: Job) -> tuple[NewDeadLetter, int]:
        first = errs[0]
        detail = "; ".join(e.detail for e in errs)
        letter = NewDeadLetter(job.source, first.code, first.pointer, detail, pending.payload,
                               job.tenant, job.message_type, pending.event.external_id,
                               {DECODED: True})
        return letter, pending.number

    def _write_letters(self, conn: Connection, letters: list[tuple[NewDeadLetter, int]],
                       tally: Tally, report: Report | None) -> None:
        self.dead_letters.add(conn, [letter for letter, _ in letters], self.clock.now())
        tally.dead_lettered += len(letters)
        if report is not None:
            for letter, number in letters:
                report(Outcome(number, letter.location, "dead_letter", None, letter.reason,
                               letter.detail))

    # -- replay -----------------------------------------------------------------------

    def replay(self, letter_id: int, tenant: str | None = None,
               payload: bytes | None = None) -> Outcome:
        """Decode and ingest a dead letter again (once): ``payload`` replaces its own."""
        letter = self.dead_letters.get(letter_id, tenant)
        if letter is None or letter.status != "open":
            raise AlreadyReplayed(f"dead letter {letter_id} is not open for replay")
        if letter.truncated and payload is None:
            raise ValueError("the stored payload was truncated: give the whole payload")
        if letter.message_type is None:
            raise ValueError("the dead letter names no message type")
        body = payload if payload is not None else letter.payload
        context = letter.context or {}
        job = Job(letter.source, letter.message_type, letter.tenant,
                  letter_key(letter.id, letter.source), 1, context)
        mtype = self.message_type(letter.message_type, letter.tenant)
        try:
            item = _first(self._replay_items(body, context, job))
            if isinstance(item, records.RecordError):
                raise Rejected([EventError(item.location, item.error.detail, item.reason)])
            tenant_id, event = self._event(records.jsonable(item.data), item.location,
                                           job.key, job, mtype)
            accepted = self._replay_commit(letter_id, tenant_id, event, letter.source)
        except errors.DecodeError as exc:
            return self._replay_failed(letter_id, exc.reason, exc.location, exc.detail)
        except Rejected as exc:
            first = exc.errors[0]
            return self._replay_failed(letter_id, first.code, first.pointer, first.detail)
        return Outcome(1, event.location, "duplicate" if accepted.duplicate else "accepted",
                       accepted.event_id)

    def _replay_items(self, body: bytes, context: dict[str, Any],
                      job: Job) -> Iterable[records.Decoded]:
        if context.get(DECODED):
            data = orjson.loads(body)
            if not isinstance(data, dict):
                raise errors.DecodeError(errors.ReasonCode.BAD_VALUE, "payload",
                                         "the payload must be a JSON object")
            return [records.DecodedRecord(data, "payload")]
        return self.decoder(job.message_type, job.tenant).decode_replay(body, context)

    def _replay_commit(self, letter_id: int, tenant: str, event: InboundEvent,
                       source: str) -> Accepted:
        def on_commit(conn: Connection, accepted: list[Accepted]) -> None:
            if not self.dead_letters.mark_replayed(conn, letter_id, accepted[0].event_id,
                                                   self.clock.now()):
                raise AlreadyReplayed(f"dead letter {letter_id} was replayed meanwhile")

        return self.ingestor.accept(tenant, [event], source, on_commit)[0]

    def _replay_failed(self, letter_id: int, reason: str, location: str,
                       detail: str) -> Outcome:
        self.dead_letters.mark_failed(letter_id, str(reason), location, detail,
                                      self.clock.now())
        return Outcome(1, location, "dead_letter", None, str(reason), detail)


def letter_key(letter_id: int, source: str) -> str:
    return f"{source}:dead-letter:{letter_id}"


def _text(data: dict[str, Any], at: str | None) -> str | None:
    value = pointer.resolve(data, at) if at is not None else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value.strip() else None


def _recipients(data: dict[str, Any], pointers: list[str]) -> list[str]:
    found: list[str] = []
    for at in pointers:
        value = pointer.resolve(data, at)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.strip() and item.strip() not in found:
                found.append(item.strip())
    return found


def _first(items: Iterable[records.Decoded]) -> records.Decoded:
    for item in items:
        return item
    raise errors.DecodeError(errors.ReasonCode.MISSING_FIELD, "payload", "no record in it")


def _split(pending: list[_Pending], errs: Sequence[EventError],
           ) -> tuple[list[_Pending], list[tuple[_Pending, list[EventError]]]]:
    """The events no error points at, and each refused event with its errors."""
    refused: dict[int, list[EventError]] = {}
    for error in errs:
        index = next((i for i, p in enumerate(pending)
                      if error.pointer.startswith(p.event.location + "/")), None)
        refused.setdefault(0 if index is None else index, []).append(error)
    kept = [p for i, p in enumerate(pending) if i not in refused]
    return kept, [(pending[i], e) for i, e in sorted(refused.items())]


def _count(pending: list[_Pending], accepted: list[Accepted], tally: Tally,
           report: Report | None) -> None:
    for item, result in zip(pending, accepted, strict=True):
        if result.duplicate:
            tally.duplicates += 1
        else:
            tally.accepted += 1
        if report is not None:
            report(Outcome(item.number, item.event.location,
                           "duplicate" if result.duplicate else "accepted", result.event_id))


def read_head(path: Path, limit: int) -> bytes:
    with path.open("rb") as handle:
        head: bytes = handle.read(limit)
    return head
