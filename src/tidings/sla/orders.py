"""Orders and their lifecycle: order events in, the order's facts and obligations out.

An order event is one of ``EVENT_TYPES``. Its payload has the shape the X12 decoders produce
(``tidings.formats.x12``): ``{"order": {"id", "retailer", "supplier", "lines", "ship_method",
"requested_ship_date", ...}, ...}`` where a party is ``{"id", "name"}`` or a plain id string.
Per type it may also carry:

- ``order.shipped``: ``shipment`` = ``{"id", "carrier", "tracking_numbers": [...], "lines":
  [{"sku" | "line_id" | "line", "qty"}], "complete": bool}`` (lines default to ``order.lines``);
- ``order.cancel_answered`` / ``order.return_answered``: ``answer`` = ``"accepted"`` |
  ``"rejected"`` (or ``{"status", "reason_code"}``);
- every type: ``reason_code`` and ``occurred_at`` (ISO 8601 with an offset; absent: the time
  the event was received).

``parse`` checks a payload and returns an ``OrderEvent``; ``plan`` decides, without I/O, what
the event does to an order: its new facts and status, which open obligations it meets or
cancels, and which obligations it starts (rule chosen and deadline computed with the
retailer's ``RuleBook``).

Lifecycle rules:

- A partial shipment is kept on the timeline (with its tracking numbers) but neither meets
  nor starts an obligation; the shipment that completes every ordered line does (or one that
  says ``"complete": true``; an order without known lines is complete at its first shipment).
- An obligation is met by the first event of its rule's ``met_by`` type; a rejected answer
  meets an ``answer_*`` obligation as well as an accepted one.
- An accepted cancellation cancels every other open obligation; a cancelled order starts
  nothing more.
- Acknowledge, ship and invoice start at most once per order; answer_cancel and
  answer_return once per request (not while one is open).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tidings.sla import rulebook as sla_rulebook
from tidings.sla import rules as sla_rules

__all__ = [
    "EVENT_TYPES",
    "OpenObligation",
    "OrderEvent",
    "OrderEventError",
    "Plan",
    "Start",
    "iso_week",
    "parse",
    "plan",
    "status_of",
]

SUBMITTED = "order.submitted"
ACKNOWLEDGED = "order.acknowledged"
SHIPPED = "order.shipped"
INVOICED = "order.invoiced"
CANCEL_REQUESTED = "order.cancel_requested"
CANCEL_ANSWERED = "order.cancel_answered"
RETURN_REQUESTED = "order.return_requested"
RETURN_ANSWERED = "order.return_answered"
EVENT_TYPES = frozenset({SUBMITTED, ACKNOWLEDGED, SHIPPED, INVOICED, CANCEL_REQUESTED,
                         CANCEL_ANSWERED, RETURN_REQUESTED, RETURN_ANSWERED})
ANSWERS = frozenset({"accepted", "rejected"})
ONCE_PER_ORDER = frozenset({sla_rules.Obligation.ACKNOWLEDGE, sla_rules.Obligation.SHIP,
                            sla_rules.Obligation.INVOICE})
MAX_REF_CHARS = 128
MAX_TRACKING_NUMBERS = 200
# Highest first: the status word of an order is its most advanced fact.
_STATUS_ORDER = ("cancelled", "returned", "return_requested", "cancel_requested", "invoiced",
                 "shipped", "partially_shipped", "acknowledged", "rejected", "submitted")


class OrderEventError(ValueError):
    """An order event that cannot be used; ``pointer`` is a JSON pointer into the payload."""

    def __init__(self, pointer: str, detail: str) -> None:
        super().__init__(f"{pointer or '/'}: {detail}")
        self.pointer, self.detail = pointer, detail
        self.index: int | None = None  # the event's place in its batch, once known


@dataclass(frozen=True)
class OrderEvent:
    type: str
    order_ref: str
    retailer: str | None
    supplier: str | None
    occurred_at: datetime | None
    external_id: str | None
    order: dict[str, Any]
    """The payload's ``order`` object, made JSON-safe (numbers as float, dates as text)."""
    summary: dict[str, Any]
    """What the timeline keeps of this event (tracking numbers, answer, reason code...)."""


@dataclass(frozen=True, slots=True)
class OpenObligation:
    id: int
    obligation: str
    met_by: str


@dataclass(frozen=True, slots=True)
class Start:
    obligation: sla_rules.Obligation
    rule: sla_rules.SlaRule
    started_at: datetime
    due_at: datetime
    warn_at: datetime
    due_week: str


@dataclass(frozen=True)
class Plan:
    status: str
    details: dict[str, Any]
    met: tuple[int, ...] = ()
    cancelled: tuple[int, ...] = ()
    starts: tuple[Start, ...] = ()
    notes: list[str] = field(default_factory=list)
    """Why nothing started (no rule for an obligation...), for the timeline."""


def parse(event_type: str, data: Mapping[str, Any], external_id: str | None = None) -> OrderEvent:
    """Check an order event payload; ``OrderEventError`` says what is wrong and where."""
    if event_type not in EVENT_TYPES:
        raise OrderEventError("/type", f"not an order event type: {event_type!r}")
    order = data.get("order")
    if not isinstance(order, Mapping):
        raise OrderEventError("/order", "required, an object")
    ref = _ref(order.get("id"), "/order/id")
    retailer = _party(order.get("retailer"), "/order/retailer")
    supplier = _party(order.get("supplier"), "/order/supplier")
    if event_type == SUBMITTED and (retailer is None or supplier is None):
        raise OrderEventError("/order", "a submitted order names its retailer and supplier")
    return OrderEvent(event_type, ref, retailer, supplier, _occurred(data.get("occurred_at")),
                      external_id, _jsonable(order), _summary(event_type, data))


def plan(event: OrderEvent, details: Mapping[str, Any], open_obligations: Sequence[OpenObligation],
         ever_started: frozenset[str], book: sla_rulebook.RuleBook | None,
         now: datetime) -> Plan:
    """What ``event`` does to an order whose stored ``details`` and obligations are given."""
    facts = dict(details.get("facts", {}))
    new = {**details, "facts": facts}
    if event.type == SUBMITTED or "order" not in new:
        new["order"] = _merge_order(new.get("order", {}), event.order, event.type == SUBMITTED)
    complete = _apply_facts(event, new, facts)
    met = tuple(o.id for o in open_obligations if o.met_by == event.type
                and (event.type != SHIPPED or complete))
    cancelled: tuple[int, ...] = ()
    if event.type == CANCEL_ANSWERED and event.summary.get("answer") == "accepted":
        cancelled = tuple(o.id for o in open_obligations if o.id not in met)
    still_open = {o.obligation for o in open_obligations if o.id not in met + cancelled}
    starts: tuple[Start, ...] = ()
    notes: list[str] = []
    if book is not None and not facts.get("cancelled") \
            and (event.type != SHIPPED or complete):
        starts, notes = _starts(event, new, book, still_open, ever_started, now)
    return Plan(status_of(facts), new, met, cancelled, starts, notes)


def status_of(facts: Mapping[str, Any]) -> str:
    """The order's status word: its most advanced fact."""
    return next((name for name in _STATUS_ORDER if facts.get(name)), "submitted")


def iso_week(at: datetime, zone: ZoneInfo) -> str:
    """``"2026-W03"``: the ISO week of ``at`` in ``zone``."""
    year, week, _ = at.astimezone(zone).isocalendar()
    return f"{year:04d}-W{week:02d}"


# -- facts ------------------------------------------------------------------------------------

def _apply_facts(event: OrderEvent, details: dict[str, Any], facts: dict[str, Any]) -> bool:
    """Record what the event says about the order; returns whether shipping is complete."""
    kind, answer = event.type, event.summary.get("answer")
    if kind == SUBMITTED:
        facts["submitted"] = True
    elif kind == ACKNOWLEDGED:
        facts["rejected" if event.summary.get("status") == "rejected" else "acknowledged"] = True
    elif kind == SHIPPED:
        return _ship(event, details, facts)
    elif kind == INVOICED:
        facts["invoiced"] = True
    elif kind == CANCEL_REQUESTED:
        facts["cancel_requested"] = True
    elif kind == CANCEL_ANSWERED:
        facts["cancel_requested"] = False
        facts["cancelled"] = facts.get("cancelled") or answer == "accepted"
    elif kind == RETURN_REQUESTED:
        facts["return_requested"] = True
    elif kind == RETURN_ANSWERED:
        facts["return_requested"] = False
        facts["returned"] = facts.get("returned") or answer == "accepted"
    return False


def _ship(event: OrderEvent, details: dict[str, Any], facts: dict[str, Any]) -> bool:
    shipped = dict(details.get("shipped", {}))
    for key, qty in event.summary.get("lines", []):
        shipped[key] = shipped.get(key, 0.0) + qty
    details["shipped"] = shipped
    numbers = list(details.get("tracking_numbers", []))
    numbers += [n for n in event.summary.get("tracking_numbers", []) if n not in numbers]
    details["tracking_numbers"] = numbers[:MAX_TRACKING_NUMBERS]
    stated = event.summary.get("complete")
    ordered = _ordered(details.get("order", {}))
    complete = bool(stated) if stated is not None else \
        all(shipped.get(key, 0.0) >= qty for key, qty in ordered.items())
    facts["partially_shipped"] = True
    facts["shipped"] = facts.get("shipped") or complete
    return complete


def _ordered(order: Mapping[str, Any]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for number, line in enumerate(order.get("lines") or [], start=1):
        if isinstance(line, Mapping):
            key = _line_key(line, number)
            totals[key] = totals.get(key, 0.0) + _number(line.get("qty"), 1.0)
    return totals


# -- starting obligations ---------------------------------------------------------------------

def _starts(event: OrderEvent, details: Mapping[str, Any], book: sla_rulebook.RuleBook,
            still_open: set[str], ever_started: frozenset[str],
            now: datetime) -> tuple[tuple[Start, ...], list[str]]:
    started_at = event.occurred_at or now
    order = details.get("order", {})
    supplier = order.get("supplier_party") or {"id": order.get("supplier")}
    starts, notes = [], []
    for obligation in book.obligations_started_by(event.type):
        if obligation.value in still_open or (obligation in ONCE_PER_ORDER
                                              and obligation.value in ever_started):
            continue
        candidates = [r for r in book.rules_for(obligation) if r.starts_on == event.type]
        rule = sla_rules.select_rule(candidates, obligation, order, supplier)
        if rule is None:
            notes.append(f"no {obligation.value} rule matches this order")
            continue
        due, warn = sla_rules.compute_deadline(rule, book.calendar, started_at)
        starts.append(Start(obligation, rule, started_at, due, warn,
                            iso_week(due, book.calendar.zone)))
    return tuple(starts), notes


# -- parsing ----------------------------------------------------------------------------------

def _summary(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    reason = data.get("reason_code")
    answer = data.get("answer")
    if isinstance(answer, Mapping):
        reason = reason or answer.get("reason_code")
        answer = answer.get("status")
    if reason is not None:
        summary["reason_code"] = str(reason)[:64]
    if event_type in (CANCEL_ANSWERED, RETURN_ANSWERED):
        if answer not in ANSWERS:
            raise OrderEventError("/answer", "required: 'accepted' or 'rejected'")
        summary["answer"] = answer
    if event_type == ACKNOWLEDGED:
        ack = data.get("acknowledgement")
        summary["status"] = ack.get("status") if isinstance(ack, Mapping) else "accepted"
    if event_type == SHIPPED:
        summary |= _shipment(data)
    for key, value in (("invoice", data.get("invoice")), ("return", data.get("return"))):
        if isinstance(value, Mapping) and value.get("id") is not None:
            summary[f"{key}_id"] = str(value["id"])[:MAX_REF_CHARS]
    return summary


def _shipment(data: Mapping[str, Any]) -> dict[str, Any]:
    shipment = data.get("shipment")
    shipment = shipment if isinstance(shipment, Mapping) else {}
    order = data.get("order", {})
    lines = shipment.get("lines")
    if lines is None:
        lines = order.get("lines") or []
    if not isinstance(lines, list):
        raise OrderEventError("/shipment/lines", "must be an array")
    numbers = shipment.get("tracking_numbers") or []
    numbers = [str(n) for n in numbers] + [str(line["tracking"]) for line in lines
                                           if isinstance(line, Mapping) and line.get("tracking")]
    complete = shipment.get("complete")
    if complete is not None and not isinstance(complete, bool):
        raise OrderEventError("/shipment/complete", "must be true or false")
    out: dict[str, Any] = {
        "shipment_id": None if shipment.get("id") is None else str(shipment["id"]),
        "carrier": shipment.get("carrier"),
        "tracking_numbers": list(dict.fromkeys(numbers))[:MAX_TRACKING_NUMBERS],
        "lines": [[_line_key(line, n), _number(line.get("qty"), 1.0)]
                  for n, line in enumerate(lines, start=1) if isinstance(line, Mapping)],
    }
    if complete is not None:
        out["complete"] = complete
    return out


def _merge_order(stored: Mapping[str, Any], incoming: Mapping[str, Any],
                 authoritative: bool) -> dict[str, Any]:
    """The order snapshot; a submitted event's order wins over what other events said."""
    merged = {**stored, **incoming} if authoritative else {**incoming, **stored}
    for key in ("retailer", "supplier"):
        party = merged.get(key)
        if isinstance(party, Mapping):
            merged[f"{key}_party"] = dict(party)
            merged[key] = party.get("id")
    if merged.get("total") is None:
        total = _total(merged.get("lines") or [])
        if total is not None:
            merged["total"] = total
    return merged


def _total(lines: list[Any]) -> float | None:
    amounts = [_number(line.get("qty"), 1.0) * _number(line.get("price"), 0.0)
               for line in lines if isinstance(line, Mapping) and line.get("price") is not None]
    return round(sum(amounts), 2) if amounts else None


def _line_key(line: Mapping[str, Any], number: int) -> str:
    for key in ("sku", "line_id", "line"):
        if line.get(key) not in (None, ""):
            return str(line[key])
    return str(number)


def _number(value: Any, default: float) -> float:
    if value is None or isinstance(value, bool):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _ref(value: Any, pointer: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_REF_CHARS:
        raise OrderEventError(pointer, f"required, a string of 1-{MAX_REF_CHARS} characters")
    return value.strip()


def _party(value: Any, pointer: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return _ref(value.get("id"), f"{pointer}/id")
    return _ref(value, pointer)


def _occurred(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise OrderEventError("/occurred_at", "must be an ISO 8601 date-time") from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise OrderEventError("/occurred_at", "must carry a UTC offset")
    return parsed.astimezone(UTC)


def _jsonable(value: Any) -> Any:
    """Numbers to float, dates to ISO text: what CEL conditions and JSON storage expect."""
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int | Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)
