"""Digest subscriptions: what each supplier user asked for, edited as days and a time.

A subscription belongs to one user (an email address) of one supplier. It is stored as a cron
string plus an IANA zone (``schedule.to_cron``), is enabled or opted out, may narrow the
digest to some retailers and obligations (``None``: all), and says whether an empty digest is
sent. ``SubscriptionInput.parse`` checks a request body; ``SubscriptionError`` names the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import time
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tidings.sla import rules as sla_rules
from tidings.sla import schedule

__all__ = ["DAY_NAMES", "SubscriptionError", "SubscriptionInput", "describe"]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_FILTER_ITEMS = 200
_FIELDS = frozenset({"email", "name", "locale", "enabled", "days", "time", "timezone",
                     "retailers", "obligations", "send_empty"})


class SubscriptionError(ValueError):
    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field, self.detail = field, detail


@dataclass(frozen=True)
class SubscriptionInput:
    email: str
    days: frozenset[int]
    at: time
    timezone: str
    name: str = ""
    locale: str | None = None
    enabled: bool = True
    retailers: tuple[str, ...] | None = None
    obligations: tuple[str, ...] | None = None
    send_empty: bool = False

    @property
    def cron(self) -> str:
        return schedule.to_cron(self.days, self.at)

    @classmethod
    def parse(cls, doc: Mapping[str, Any]) -> SubscriptionInput:
        """A new subscription; ``email``, ``days``, ``time`` and ``timezone`` are required."""
        for key in ("email", "days", "time", "timezone"):
            if key not in doc:
                raise SubscriptionError(key, "required")
        blank = cls("x@x", frozenset({0}), time(8), "UTC")
        return blank.patched(doc)

    def patched(self, doc: Mapping[str, Any]) -> SubscriptionInput:
        """This subscription with the fields ``doc`` names changed."""
        unknown = sorted(set(doc) - _FIELDS)
        if unknown:
            raise SubscriptionError(unknown[0], "unknown field")
        changes: dict[str, Any] = {}
        for key, value in doc.items():
            changes.update(_field(key, value))
        return replace(self, **changes)

    @classmethod
    def of_stored(cls, row: Mapping[str, Any]) -> SubscriptionInput:
        days, at = schedule.from_cron(row["cron"])
        return cls(row["email"], days, at, row["timezone"], row["name"], row["locale"],
                   row["enabled"], _tuple(row["retailers"]), _tuple(row["obligations"]),
                   row["send_empty"])


def describe(sub: SubscriptionInput) -> dict[str, Any]:
    """The editable view: days by name and a time, next to the stored cron."""
    return {"email": sub.email, "name": sub.name, "locale": sub.locale, "enabled": sub.enabled,
            "days": [DAY_NAMES[d] for d in sorted(sub.days)], "time": sub.at.strftime("%H:%M"),
            "timezone": sub.timezone, "cron": sub.cron,
            "retailers": None if sub.retailers is None else list(sub.retailers),
            "obligations": None if sub.obligations is None else list(sub.obligations),
            "send_empty": sub.send_empty}


def _field(key: str, value: Any) -> dict[str, Any]:
    if key == "email":
        return {"email": _email(value)}
    if key == "days":
        return {"days": _days(value)}
    if key == "time":
        return {"at": _time(value)}
    if key == "timezone":
        return {"timezone": _zone(value)}
    if key in ("enabled", "send_empty"):
        if not isinstance(value, bool):
            raise SubscriptionError(key, "must be true or false")
        return {key: value}
    if key in ("name", "locale"):
        if value is not None and (not isinstance(value, str) or len(value) > 200):
            raise SubscriptionError(key, "must be a string of at most 200 characters")
        return {key: value if key == "locale" else (value or "")}
    return {key: _filter(key, value)}


def _email(value: Any) -> str:
    if not isinstance(value, str) or "@" not in parseaddr(value)[1] or len(value) > 320 \
            or any(c in value for c in "\r\n"):
        raise SubscriptionError("email", "must be an email address")
    return parseaddr(value)[1].lower()


def _days(value: Any) -> frozenset[int]:
    if not isinstance(value, list) or not value:
        raise SubscriptionError("days", f"a non-empty list of {', '.join(DAY_NAMES)}")
    days = set()
    for item in value:
        name = str(item).lower()[:3]
        if name not in DAY_NAMES:
            raise SubscriptionError("days", f"unknown day {item!r}; use {', '.join(DAY_NAMES)}")
        days.add(DAY_NAMES.index(name))
    return frozenset(days)


def _time(value: Any) -> time:
    try:
        at = time.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise SubscriptionError("time", "a local time of day HH:MM") from exc
    if at.second or at.microsecond or at.tzinfo is not None:
        raise SubscriptionError("time", "a whole minute, without a zone (see timezone)")
    return at


def _zone(value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SubscriptionError("timezone", f"unknown IANA time zone {value!r}") from exc
    return str(value)


def _filter(key: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or len(value) > MAX_FILTER_ITEMS \
            or not all(isinstance(v, str) and v for v in value):
        raise SubscriptionError(key, "null (all) or a non-empty list of ids")
    if key == "obligations":
        known = {o.value for o in sla_rules.Obligation}
        for item in value:
            if item not in known:
                raise SubscriptionError(key, f"unknown obligation {item!r}")
    return tuple(dict.fromkeys(value))


def _tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)
