"""Digest schedule: a cron string plus an IANA zone, edited as weekdays and a time of day.

Only one shape of cron is accepted: ``"M H * * DAYS"`` with a single minute and hour and
``DAYS`` either ``*`` or a comma list of cron weekdays (``0``-``7``, Sunday is 0 or 7) and
ranges ``a-b``. Anything else (steps, lists of hours, day-of-month, month, seconds) raises
``ScheduleError`` naming the field. Weekdays on the Python side use 0 = Monday ... 6 = Sunday,
as ``tidings.sla.calendar`` does.

A *slot* is one local (date, time of day) the schedule names. croniter fires a slot whose time
falls in a spring-forward gap once, at the shifted time (``02:30`` becomes ``03:00``), and a slot
inside a fall-back fold twice (``02:30+02:00`` and ``02:30+01:00``). Here every slot fires once:
at its first instant. ``slot_key`` names a slot by its local date and the schedule's time of day,
so all instants of one slot share a key (the fire-once row of the scheduler uses it).

All functions are pure (``after`` / ``now`` are arguments); inputs must be aware datetimes and
results are aware datetimes in UTC.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Set
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

__all__ = [
    "ScheduleError",
    "due_slot",
    "from_cron",
    "next_runs",
    "slot_key",
    "to_cron",
]

ALL_DAYS: frozenset[int] = frozenset(range(7))
FOLD_LOOKBACK = timedelta(hours=3)  # longer than any DST shift, so a fold's first fire is seen
SLOT_LOOKBACK = timedelta(days=8)  # longer than a week, so the latest weekly slot is seen
_NUMBER = re.compile(r"[0-9]{1,2}")
_DAY_ITEM = re.compile(r"([0-7])(?:-([0-7]))?")


class ScheduleError(ValueError):
    """A cron string, zone or instant that a digest schedule cannot use."""


def to_cron(days: Set[int], at: time) -> str:
    """``({0, 2, 4}, time(8, 30))`` -> ``"30 8 * * 1,3,5"``; every day gives ``*``."""
    if not days or not days <= ALL_DAYS:
        raise ScheduleError(f"days must be a non-empty subset of 0..6, got {sorted(days)}")
    if at.second or at.microsecond or at.tzinfo is not None:
        raise ScheduleError(f"time of day must be a naive whole minute, got {at!r}")
    dow = "*" if days == ALL_DAYS else ",".join(str(n) for n in sorted((d + 1) % 7 for d in days))
    return f"{at.minute} {at.hour} * * {dow}"


def from_cron(expr: str) -> tuple[frozenset[int], time]:
    """The weekdays (0 = Monday) and local time of day of a cron of the accepted shape."""
    fields = expr.split()
    if len(fields) != 5:
        raise ScheduleError(f"{expr!r}: expected 5 fields 'minute hour * * days'")
    minute, hour, day_of_month, month, day_of_week = fields
    for name, value in (("day-of-month", day_of_month), ("month", month)):
        if value != "*":
            raise ScheduleError(f"{expr!r}: {name} must be '*', got {value!r}")
    minute_number = _number(expr, "minute", minute, 59)
    at = time(_number(expr, "hour", hour, 23), minute_number)
    return _weekdays(expr, day_of_week), at


def next_runs(cron: str, tz: str, after: datetime, n: int) -> list[datetime]:
    """The next ``n`` fires strictly after ``after``, one per slot (UTC)."""
    if n < 0:
        raise ScheduleError(f"n must not be negative, got {n}")
    _check_aware(after, "after")
    fires = _fires(cron, _load_zone(tz), after - FOLD_LOOKBACK)
    return list(itertools.islice((fire for fire in fires if fire > after), n))


def slot_key(cron: str, tz: str, fire_at: datetime) -> str:
    """``"2026-10-25T02:30"``: the local date and scheduled time of the slot ``fire_at`` fires."""
    days, at = from_cron(cron)
    _check_aware(fire_at, "fire_at")
    local = fire_at.astimezone(_load_zone(tz))
    if local.weekday() not in days:
        raise ScheduleError(f"{fire_at.isoformat()} is on no day of {cron!r} in {tz}")
    return _key(local, at)


def due_slot(cron: str, tz: str, last_slot_at: datetime | None, now: datetime) -> datetime | None:
    """The latest slot at or before ``now`` if it is later than ``last_slot_at``, else ``None``.

    Catch-up is deliberately one digest: after downtime only the most recent missed slot is
    returned; older missed slots are skipped. ``last_slot_at`` is the instant returned for the
    slot fired last (``None``: nothing fired yet, so the latest past slot is due; pass the
    subscription's creation time instead to fire only slots after it).
    """
    _check_aware(now, "now")
    start = now - SLOT_LOOKBACK
    if last_slot_at is not None:
        _check_aware(last_slot_at, "last_slot_at")
        # Fires before this cannot be due; starting here keeps a tick to a few croniter steps.
        start = max(start, last_slot_at - FOLD_LOOKBACK)
    latest: datetime | None = None
    for fire in _fires(cron, _load_zone(tz), start):
        if fire > now:
            break
        latest = fire
    if latest is None or (last_slot_at is not None and latest <= last_slot_at):
        return None
    return latest


def _fires(cron: str, zone: ZoneInfo, start: datetime) -> Iterator[datetime]:
    """croniter's fires after ``start`` (UTC), keeping only the first instant of each slot."""
    days, at = from_cron(cron)
    runner = croniter(to_cron(days, at), start.astimezone(zone))
    previous_key = ""
    while True:
        fire: datetime = runner.get_next(datetime)
        key = _key(fire.astimezone(zone), at)
        if key != previous_key:
            yield fire.astimezone(UTC)
        previous_key = key


def _key(local: datetime, at: time) -> str:
    return f"{local.date().isoformat()}T{at:%H:%M}"


def _number(expr: str, name: str, value: str, highest: int) -> int:
    if _NUMBER.fullmatch(value) is None or int(value) > highest:
        raise ScheduleError(f"{expr!r}: {name} must be one number 0..{highest}, got {value!r}")
    return int(value)


def _weekdays(expr: str, field: str) -> frozenset[int]:
    if field == "*":
        return ALL_DAYS
    days: set[int] = set()
    for item in field.split(","):
        match = _DAY_ITEM.fullmatch(item)
        if match is None or (match[2] is not None and int(match[2]) < int(match[1])):
            raise ScheduleError(f"{expr!r}: days must be '*' or 0..7 and ranges a-b, got {item!r}")
        first = int(match[1])
        last = first if match[2] is None else int(match[2])
        days.update((cron_day - 1) % 7 for cron_day in range(first, last + 1))
    return frozenset(days)


def _check_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ScheduleError(f"{name} must be an aware datetime, got {value.isoformat()}")


def _load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown time zone {name!r}") from exc
