"""SLA rules: which obligation a retailer sets for an order, and when it falls due.

A rule names an obligation (acknowledge, ship, invoice, answer a cancel or return request), the
event type that starts its clock, the event type that meets it, a deadline (real hours, business
hours or business days on the retailer's ``BusinessCalendar``) and an optional CEL condition over
``order`` and ``supplier``. The condition is compiled once, when the rule is built; a rule that
does not compile raises ``RuleError`` there.

Selection: among the rules for the obligation, the first whose condition holds, lower
``priority`` first, default rules after all others, ties kept in the order given. Before
evaluation every number in ``order`` and ``supplier`` (int, Decimal) becomes a float, so
``order.total > 100.0`` holds for ``129``. A condition that cannot be evaluated for an order (a
missing key, a type error, a non-boolean result) does not match, so a broken or partial rule
falls through to the next one and finally to the default; ``evaluate`` raises ``RuleError``
instead, for tools that test a rule against a sample order. Guard optional keys with
``has(order.x)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tidings.rules import celx as cel  # the bindings without their CLI (typer, rich)
from tidings.sla import calendar as sla_calendar

__all__ = [
    "Deadline",
    "Obligation",
    "RuleError",
    "SlaRule",
    "compute_deadline",
    "evaluate",
    "select_rule",
]


class RuleError(ValueError):
    """A rule that cannot be built, or a condition that cannot be evaluated."""


class Obligation(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    SHIP = "ship"
    INVOICE = "invoice"
    ANSWER_CANCEL = "answer_cancel"
    ANSWER_RETURN = "answer_return"


@dataclass(frozen=True)
class Deadline:
    """Exactly one of ``hours`` (real, or business hours when ``business_hours_only``) and
    ``business_days`` (ends at the end of business day N, day 0 being the clock's start day)."""

    hours: float | None = None
    business_days: int | None = None
    business_hours_only: bool = False

    def __post_init__(self) -> None:
        if (self.hours is None) == (self.business_days is None):
            raise RuleError("a deadline has exactly one of hours and business_days")
        if self.hours is not None and not (math.isfinite(self.hours) and self.hours >= 0):
            raise RuleError(f"deadline hours must be finite and >= 0, got {self.hours}")
        if self.business_days is not None and self.business_days < 0:
            raise RuleError(f"deadline business_days must be >= 0, got {self.business_days}")
        if self.business_hours_only and self.hours is None:
            raise RuleError("business_hours_only applies to an hours deadline only")


@dataclass(frozen=True)
class SlaRule:
    """One retailer's SLA for one obligation; ``condition`` is CEL over ``order``/``supplier``.

    A blank condition counts as none. ``warn_at_fraction`` in (0, 1] places the warning at that
    share of the deadline's own measure (real time for hours, business time otherwise).
    """

    id: str
    retailer: str
    obligation: Obligation
    starts_on: str
    met_by: str
    deadline: Deadline
    condition: str | None = None
    priority: int = 100
    warn_at_fraction: float = 0.8
    is_default: bool = False
    _program: cel.Program | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "obligation", Obligation(self.obligation))
        except ValueError as exc:
            raise RuleError(f"rule {self.id}: unknown obligation {self.obligation!r}") from exc
        if not 0 < self.warn_at_fraction <= 1:
            raise RuleError(f"rule {self.id}: warn_at_fraction must be in (0, 1]")
        if self.condition is not None and not self.condition.strip():
            object.__setattr__(self, "condition", None)
        object.__setattr__(self, "_program", _compile(self.id, self.condition))


def select_rule(
    rules: Iterable[SlaRule],
    obligation: Obligation,
    order: Mapping[str, Any],
    supplier: Mapping[str, Any],
) -> SlaRule | None:
    """The first matching rule for ``obligation`` by priority, defaults last; ``None`` if none.

    ``rules`` are the rules of the order's retailer; this function does not filter by retailer.
    """
    candidates = sorted((r for r in rules if r.obligation == obligation), key=_rank)
    context = _context(order, supplier)
    return next((rule for rule in candidates if _holds(rule, context)), None)


def evaluate(rule: SlaRule, order: Mapping[str, Any], supplier: Mapping[str, Any]) -> bool:
    """Whether ``rule``'s condition holds; ``RuleError`` when it cannot be evaluated."""
    return _evaluate(rule, _context(order, supplier))


def compute_deadline(
    rule: SlaRule, calendar: sla_calendar.BusinessCalendar, started_at: datetime
) -> tuple[datetime, datetime]:
    """``(due_at, warn_at)`` in UTC for a clock started by an event at ``started_at``.

    Every kind of deadline counts from ``start_of_clock`` (cut-off and closed days apply to all
    of them). ``due_at`` is exclusive: met in time iff ``met_at < due_at``. ``warn_at`` lies
    ``warn_at_fraction`` of the way from the clock start to ``due_at``, in real time for a real
    hours deadline and in business time for business hours and business days.
    """
    clock = sla_calendar.start_of_clock(calendar, started_at)
    deadline = rule.deadline
    if deadline.business_days is not None:
        due = sla_calendar.add_business_days(calendar, clock, deadline.business_days)
    else:
        hours = deadline.hours or 0.0
        due = sla_calendar.add_hours(calendar, clock, hours, deadline.business_hours_only)
    return due, _warn_at(rule, calendar, clock, due)


def _warn_at(
    rule: SlaRule, calendar: sla_calendar.BusinessCalendar, clock: datetime, due: datetime
) -> datetime:
    deadline = rule.deadline
    if deadline.hours is not None and not deadline.business_hours_only:
        return clock + (due - clock) * rule.warn_at_fraction
    span = sla_calendar.business_time_between(calendar, clock, due) * rule.warn_at_fraction
    warn = sla_calendar.add_hours(calendar, clock, span / timedelta(hours=1), True)
    return min(warn, due)


def _rank(rule: SlaRule) -> tuple[bool, int]:
    return rule.is_default, rule.priority


def _holds(rule: SlaRule, context: cel.Context) -> bool:
    try:
        return _evaluate(rule, context)
    except RuleError:
        return False


def _evaluate(rule: SlaRule, context: cel.Context) -> bool:
    if rule._program is None:
        return True
    try:
        result = rule._program.execute(context)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise RuleError(f"rule {rule.id}: condition failed: {exc}") from exc
    if not isinstance(result, bool):
        raise RuleError(f"rule {rule.id}: condition gave {result!r}, not a boolean")
    return result


def _compile(rule_id: str, condition: str | None) -> cel.Program | None:
    if condition is None:
        return None
    try:
        return cel.compile(condition)
    except ValueError as exc:
        raise RuleError(f"rule {rule_id}: condition does not compile: {exc}") from exc


def _context(order: Mapping[str, Any], supplier: Mapping[str, Any]) -> cel.Context:
    return cel.Context({"order": _normalise(order), "supplier": _normalise(supplier)})


def _normalise(value: Any) -> Any:
    """Numbers to float (bools stay), mappings and sequences copied through, the rest as is."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(key): _normalise(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(item) for item in value]
    return value
