"""A retailer's rule book: its business calendar and its SLA rules, to and from JSON.

Calendars and rules are stored as JSON documents (``sla_retailers.calendar``,
``sla_rules.definition``) and edited through the API or ``tidings sla rules load``; this
module is the one place that turns those documents into ``calendar.BusinessCalendar`` and
``rules.SlaRule`` and back. Invalid documents raise ``RuleBookError`` naming the field.

Calendar document::

    {"timezone": "America/New_York", "working_days": [0, 1, 2, 3, 4],
     "holidays_country": "US", "holidays_subdiv": null, "extra_holidays": ["2026-12-24"],
     "cutoff": "14:00", "day_start": "00:00", "day_end": null}

Rule document (``starts_on`` and ``met_by`` default per obligation, see ``DEFAULT_EVENTS``)::

    {"obligation": "ship", "deadline": {"business_days": 2}, "condition":
     "order.ship_method == 'express'", "priority": 10, "warn_at_fraction": 0.8,
     "is_default": false}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from tidings.sla import calendar as sla_calendar
from tidings.sla import rules as sla_rules

__all__ = [
    "DEFAULT_EVENTS",
    "RuleBook",
    "RuleBookError",
    "calendar_from_json",
    "calendar_to_json",
    "rule_from_json",
    "rule_to_json",
]

Obligation = sla_rules.Obligation
DEFAULT_EVENTS: dict[Obligation, tuple[str, str]] = {
    Obligation.ACKNOWLEDGE: ("order.submitted", "order.acknowledged"),
    Obligation.SHIP: ("order.submitted", "order.shipped"),
    Obligation.INVOICE: ("order.shipped", "order.invoiced"),
    Obligation.ANSWER_CANCEL: ("order.cancel_requested", "order.cancel_answered"),
    Obligation.ANSWER_RETURN: ("order.return_requested", "order.return_answered"),
}
DEFAULT_CALENDAR: dict[str, Any] = {"timezone": "UTC"}
_CALENDAR_KEYS = frozenset({"timezone", "working_days", "holidays_country", "holidays_subdiv",
                            "extra_holidays", "cutoff", "day_start", "day_end"})
_RULE_KEYS = frozenset({"obligation", "starts_on", "met_by", "deadline", "condition",
                        "priority", "warn_at_fraction", "is_default"})
_DEADLINE_KEYS = frozenset({"hours", "business_days", "business_hours_only"})


class RuleBookError(ValueError):
    """A calendar or rule document that cannot be used; the message names the field."""


@dataclass(frozen=True)
class RuleBook:
    """What one retailer expects of its suppliers; ``revision`` changes with every edit."""

    retailer: str
    calendar: sla_calendar.BusinessCalendar
    rules: tuple[sla_rules.SlaRule, ...]
    revision: int = 0

    def obligations_started_by(self, event_type: str) -> list[Obligation]:
        seen: list[Obligation] = []
        for rule in self.rules:
            if rule.starts_on == event_type and rule.obligation not in seen:
                seen.append(rule.obligation)
        return seen

    def rules_for(self, obligation: Obligation) -> list[sla_rules.SlaRule]:
        return [rule for rule in self.rules if rule.obligation == obligation]


def calendar_from_json(doc: Mapping[str, Any]) -> sla_calendar.BusinessCalendar:
    _only(doc, _CALENDAR_KEYS, "calendar")
    try:
        return sla_calendar.BusinessCalendar(
            timezone=_text(doc, "timezone", "calendar") or "UTC",
            working_days=frozenset(_days(doc.get("working_days", [0, 1, 2, 3, 4]))),
            holidays_country=doc.get("holidays_country"),
            holidays_subdiv=doc.get("holidays_subdiv"),
            extra_holidays=frozenset(_dates(doc.get("extra_holidays", []))),
            cutoff=_wall(doc.get("cutoff"), "cutoff"),
            day_start=_wall(doc.get("day_start"), "day_start") or time(0),
            day_end=_wall(doc.get("day_end"), "day_end"))
    except sla_calendar.CalendarError as exc:
        raise RuleBookError(f"calendar: {exc}") from exc


def calendar_to_json(cal: sla_calendar.BusinessCalendar) -> dict[str, Any]:
    return {"timezone": cal.timezone, "working_days": sorted(cal.working_days),
            "holidays_country": cal.holidays_country, "holidays_subdiv": cal.holidays_subdiv,
            "extra_holidays": sorted(d.isoformat() for d in cal.extra_holidays),
            "cutoff": _wall_text(cal.cutoff), "day_start": _wall_text(cal.day_start),
            "day_end": _wall_text(cal.day_end)}


def rule_from_json(retailer: str, rule_id: str, doc: Mapping[str, Any]) -> sla_rules.SlaRule:
    _only(doc, _RULE_KEYS, f"rule {rule_id}")
    try:
        obligation = Obligation(doc.get("obligation", ""))
    except ValueError as exc:
        raise RuleBookError(f"rule {rule_id}: obligation must be one of "
                            f"{', '.join(o.value for o in Obligation)}") from exc
    starts_on, met_by = DEFAULT_EVENTS[obligation]
    try:
        return sla_rules.SlaRule(
            id=rule_id, retailer=retailer, obligation=obligation,
            starts_on=_text(doc, "starts_on", rule_id) or starts_on,
            met_by=_text(doc, "met_by", rule_id) or met_by,
            deadline=_deadline(rule_id, doc.get("deadline")),
            condition=doc.get("condition"), priority=int(doc.get("priority", 100)),
            warn_at_fraction=float(doc.get("warn_at_fraction", 0.8)),
            is_default=bool(doc.get("is_default", False)))
    except (sla_rules.RuleError, TypeError, ValueError) as exc:
        raise RuleBookError(f"rule {rule_id}: {exc}") from exc


def rule_to_json(rule: sla_rules.SlaRule) -> dict[str, Any]:
    deadline = rule.deadline
    doc: dict[str, Any] = {"business_days": deadline.business_days} \
        if deadline.business_days is not None else \
        {"hours": deadline.hours, "business_hours_only": deadline.business_hours_only}
    return {"obligation": rule.obligation.value, "starts_on": rule.starts_on,
            "met_by": rule.met_by, "deadline": doc, "condition": rule.condition,
            "priority": rule.priority, "warn_at_fraction": rule.warn_at_fraction,
            "is_default": rule.is_default}


def book_of(retailer: str, calendar_doc: Mapping[str, Any] | None,
            rule_docs: Iterable[tuple[str, Mapping[str, Any]]], revision: int) -> RuleBook:
    """A rule book from stored documents (a missing calendar is UTC, Monday to Friday)."""
    cal = calendar_from_json(calendar_doc or DEFAULT_CALENDAR)
    built = tuple(rule_from_json(retailer, rule_id, doc) for rule_id, doc in rule_docs)
    return RuleBook(retailer, cal, built, revision)


def _deadline(rule_id: str, doc: Any) -> sla_rules.Deadline:
    if not isinstance(doc, Mapping):
        raise RuleBookError(f"rule {rule_id}: deadline must be an object with hours or "
                            "business_days")
    _only(doc, _DEADLINE_KEYS, f"rule {rule_id} deadline")
    hours = doc.get("hours")
    days = doc.get("business_days")
    return sla_rules.Deadline(hours=None if hours is None else float(hours),
                              business_days=None if days is None else int(days),
                              business_hours_only=bool(doc.get("business_hours_only", False)))


def _only(doc: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    if not isinstance(doc, Mapping):
        raise RuleBookError(f"{where}: must be an object")
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise RuleBookError(f"{where}: unknown keys {', '.join(unknown)}")


def _text(doc: Mapping[str, Any], key: str, where: str) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise RuleBookError(f"{where}: {key} must be a string")
    return value


def _days(value: Any) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(d, int) for d in value):
        raise RuleBookError("calendar: working_days must be a list of 0 (Monday) .. 6 (Sunday)")
    return value


def _dates(value: Any) -> list[date]:
    try:
        return [date.fromisoformat(item) for item in value]
    except (TypeError, ValueError) as exc:
        raise RuleBookError("calendar: extra_holidays must be a list of YYYY-MM-DD") from exc


def _wall(value: Any, key: str) -> time | None:
    if value is None:
        return None
    try:
        return time.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise RuleBookError(f"calendar: {key} must be a time of day HH:MM") from exc


def _wall_text(value: time | None) -> str | None:
    return None if value is None else value.isoformat(timespec="minutes" if not value.second
                                                      else "seconds")
