"""Business calendar: which local days count, where an SLA clock starts and where it ends.

A retailer's calendar is a time zone, the weekdays it works, public holidays (the ``holidays``
package, by country and optional subdivision), its own extra closed days, an optional order
cut-off and optional business hours. Every function is pure: the instant to reason about is
always an argument, never read from a clock.

Conventions (one set, used by every function here):

- Inputs are aware datetimes in any zone; naive ones are refused with ``CalendarError``.
  Results are aware datetimes in **UTC** (what gets stored); all day arithmetic happens in the
  calendar's local zone.
- **Day attribution.** An event belongs to its local day, unless that day is not a business day
  or the event is at or after the cut-off (``14:00:00`` is late, ``13:59:59.999999`` is not): then
  it belongs to the next business day and its clock starts there at ``day_start`` (default local
  midnight). ``start_of_clock`` returns that instant.
- **Counting days.** The business day the clock starts on is day 0. "N business days" ends at
  the *end of day N*: ``n=0`` is same-day, ``n=1`` the next business day.
- **End of a business day** is the same boundary that attributes events to days: the local
  cut-off when the calendar has one, otherwise local midnight at the end of that day. The
  returned deadline is *exclusive*: the obligation is met in time iff ``met_at < due_at``
  (so "due 14:00" means an event at 14:00:00 is late, exactly as it would count for the next
  day). Without a cut-off, "end of Tuesday" is returned as Wednesday 00:00 local.
- **Business hours** are ``[day_start, day_end)`` on business days (``day_end=None`` means until
  local midnight). They are measured in real elapsed time, so a whole-day window on a DST day is
  23 or 25 hours long. They matter only to business-hours arithmetic, never to day attribution.
- A local time that falls in a DST gap or fold resolves as PEP 495 ``fold=0`` does (the offset
  before the transition).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "MONDAY_TO_FRIDAY",
    "BusinessCalendar",
    "CalendarError",
    "add_business_days",
    "add_hours",
    "business_time_between",
    "is_business_day",
    "next_business_day",
    "start_of_clock",
]

MONDAY_TO_FRIDAY: frozenset[int] = frozenset(range(5))
MAX_SCAN_DAYS = 732  # a calendar with no business day in two years is a configuration error
HOLIDAY_CACHE_YEARS = 512  # (country, subdivision, year) tables kept in memory
ONE_DAY = timedelta(days=1)
MIDNIGHT = time(0)


class CalendarError(ValueError):
    """A calendar that cannot be built, or an input it cannot reason about."""


@dataclass(frozen=True)
class BusinessCalendar:
    """One retailer's working calendar; validated on construction, immutable, hashable.

    ``working_days`` uses Python's numbering (0 = Monday ... 6 = Sunday). ``cutoff``,
    ``day_start`` and ``day_end`` are naive local wall times; ``day_start < cutoff`` and
    ``cutoff <= day_end`` must hold when they are set.
    """

    timezone: str
    working_days: frozenset[int] = MONDAY_TO_FRIDAY
    holidays_country: str | None = None
    holidays_subdiv: str | None = None
    extra_holidays: frozenset[date] = frozenset()
    cutoff: time | None = None
    day_start: time = MIDNIGHT
    day_end: time | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "working_days", frozenset(self.working_days))
        object.__setattr__(self, "extra_holidays", frozenset(self.extra_holidays))
        _load_zone(self.timezone)
        _check_working_days(self.working_days)
        _check_times(self.cutoff, self.day_start, self.day_end)
        _check_holidays(self.holidays_country, self.holidays_subdiv)

    @property
    def zone(self) -> ZoneInfo:
        return _load_zone(self.timezone)


def is_business_day(cal: BusinessCalendar, day: date) -> bool:
    """A working weekday that is neither a public holiday nor one of the extra closed days."""
    if day.weekday() not in cal.working_days or day in cal.extra_holidays:
        return False
    if cal.holidays_country is None:
        return True
    return day not in _holiday_dates(cal.holidays_country, cal.holidays_subdiv, day.year)


def next_business_day(cal: BusinessCalendar, day: date) -> date:
    """The first business day strictly after ``day``."""
    return _first_business_day_from(cal, day + ONE_DAY)


def start_of_clock(cal: BusinessCalendar, at: datetime) -> datetime:
    """The instant an SLA clock starts for an event at ``at`` (UTC).

    Unchanged on a business day before the cut-off; otherwise ``day_start`` of the next
    business day.
    """
    local = _to_local(cal, at)
    day = local.date()
    if is_business_day(cal, day) and not _past_cutoff(cal, local.time()):
        return local.astimezone(UTC)
    return _local_instant(cal, next_business_day(cal, day), cal.day_start)


def add_business_days(cal: BusinessCalendar, start: datetime, n: int) -> datetime:
    """End of the ``n``-th business day counted from the clock start of ``start`` (UTC).

    Day 0 is the business day of ``start_of_clock(cal, start)``; the result is the exclusive end
    of business day ``n``: its local cut-off, or local midnight after it when there is none.
    """
    if n < 0:
        raise CalendarError(f"business days must not be negative, got {n}")
    day = _to_local(cal, start_of_clock(cal, start)).date()
    for _ in range(n):
        day = next_business_day(cal, day)
    return _end_of_day(cal, day)


def add_hours(
    cal: BusinessCalendar, start: datetime, hours: float, business_hours_only: bool
) -> datetime:
    """``hours`` after ``start`` (UTC).

    ``business_hours_only=False``: real elapsed time from ``start``; the calendar only checks the
    input (a 24-hour deadline across a DST change is 24 real hours, 23 or 25 on the wall).
    ``business_hours_only=True``: only time inside business hours counts, from
    ``start_of_clock(cal, start)``; a deadline that uses up a window exactly ends at its close.
    """
    if not math.isfinite(hours) or hours < 0:
        raise CalendarError(f"hours must be a finite non-negative number, got {hours}")
    _to_local(cal, start)
    amount = timedelta(hours=hours)
    if not business_hours_only:
        return start.astimezone(UTC) + amount
    return _add_business_time(cal, start_of_clock(cal, start), amount)


def business_time_between(cal: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Real time inside business hours in ``[start, end)``; zero when ``end <= start``."""
    _to_local(cal, end)
    windows = _windows(cal, start)
    total = timedelta(0)
    while True:
        opens, closes = next(windows)
        if opens >= end:
            return total
        total += min(closes, end) - opens


def _add_business_time(cal: BusinessCalendar, start: datetime, amount: timedelta) -> datetime:
    windows = _windows(cal, start)
    remaining = amount
    while True:
        opens, closes = next(windows)
        if remaining <= closes - opens:
            return opens + remaining
        remaining -= closes - opens


def _windows(cal: BusinessCalendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Business-hour windows (UTC) from ``start`` on, the first one clipped to ``start``."""
    day = _first_business_day_from(cal, _to_local(cal, start).date())
    start = start.astimezone(UTC)
    while True:
        opens = _local_instant(cal, day, cal.day_start)
        closes = _local_instant(cal, day + ONE_DAY, MIDNIGHT)
        if cal.day_end is not None:
            closes = _local_instant(cal, day, cal.day_end)
        if closes > start:
            yield max(opens, start), closes
        day = next_business_day(cal, day)


def _first_business_day_from(cal: BusinessCalendar, day: date) -> date:
    for offset in range(MAX_SCAN_DAYS):
        candidate = day + timedelta(days=offset)
        if is_business_day(cal, candidate):
            return candidate
    raise CalendarError(f"no business day within {MAX_SCAN_DAYS} days after {day}")


def _end_of_day(cal: BusinessCalendar, day: date) -> datetime:
    if cal.cutoff is not None:
        return _local_instant(cal, day, cal.cutoff)
    return _local_instant(cal, day + ONE_DAY, MIDNIGHT)


def _past_cutoff(cal: BusinessCalendar, wall: time) -> bool:
    return cal.cutoff is not None and wall >= cal.cutoff


def _local_instant(cal: BusinessCalendar, day: date, wall: time) -> datetime:
    return datetime.combine(day, wall, tzinfo=cal.zone).astimezone(UTC)


def _to_local(cal: BusinessCalendar, at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise CalendarError(f"an aware datetime is required, got naive {at.isoformat()}")
    return at.astimezone(cal.zone)


@functools.lru_cache(maxsize=HOLIDAY_CACHE_YEARS)
def _holiday_dates(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    import holidays  # ~4 MB resident: only for calendars that name a country

    try:
        table = holidays.country_holidays(country, subdiv=subdiv, years=year)
    except NotImplementedError as exc:
        raise CalendarError(f"no holiday table for {country}/{subdiv}: {exc}") from exc
    return frozenset(table)


def _load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"unknown time zone {name!r}") from exc


def _check_working_days(days: frozenset[int]) -> None:
    if not days or not days <= frozenset(range(7)):
        raise CalendarError(f"working days must be a non-empty subset of 0..6, got {sorted(days)}")


def _check_times(cutoff: time | None, day_start: time, day_end: time | None) -> None:
    for wall in (cutoff, day_start, day_end):
        if wall is not None and wall.tzinfo is not None:
            raise CalendarError(f"calendar times are local wall times, got aware {wall}")
    if day_end is not None and day_end <= day_start:
        raise CalendarError(f"day_end {day_end} must be after day_start {day_start}")
    if cutoff is not None and cutoff <= day_start:
        raise CalendarError(f"cutoff {cutoff} must be after day_start {day_start}")
    if cutoff is not None and day_end is not None and cutoff > day_end:
        raise CalendarError(f"cutoff {cutoff} must not be after day_end {day_end}")


def _check_holidays(country: str | None, subdiv: str | None) -> None:
    if country is None:
        if subdiv is not None:
            raise CalendarError(f"holiday subdivision {subdiv!r} given without a country")
        return
    import holidays

    try:
        holidays.country_holidays(country, subdiv=subdiv)
    except NotImplementedError as exc:
        raise CalendarError(f"no holiday table for {country}/{subdiv}: {exc}") from exc
