"""Business calendar table: expected values were read off a printed 2026 calendar, the US federal
and German (national and Bavarian) holiday lists for 2026, and ``zdump`` for the DST changes
(Berlin 29 Mar and 25 Oct, New York 8 Mar and 1 Nov; all Sundays). They are not derived from
the code under test.

Easter 2026 is Sun 5 Apr: Good Friday 3 Apr, Easter Monday 6 Apr, Whit Monday 25 May (also US
Memorial Day), Corpus Christi Thu 4 Jun (BY only). US: MLK Mon 19 Jan, Independence Day Sat
4 Jul observed Fri 3 Jul, Labor Day Mon 7 Sep, Thanksgiving Thu 26 Nov, New Year Fri 1 Jan 2027.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings.sla import calendar

WEEK = frozenset(range(7))
NY = calendar.BusinessCalendar("America/New_York", holidays_country="US", cutoff=time(14))
NY_SAT = calendar.BusinessCalendar(
    "America/New_York", working_days=frozenset(range(6)), holidays_country="US", cutoff=time(14)
)
NY_OFFICE = calendar.BusinessCalendar(
    "America/New_York",
    holidays_country="US",
    cutoff=time(14),
    day_start=time(9),
    day_end=time(17),
)
NY_ALWAYS = calendar.BusinessCalendar("America/New_York", working_days=WEEK)
BERLIN = calendar.BusinessCalendar("Europe/Berlin", holidays_country="DE", cutoff=time(14))
BERLIN_BY = calendar.BusinessCalendar(
    "Europe/Berlin", holidays_country="DE", holidays_subdiv="BY", cutoff=time(14)
)
BERLIN_NO_CUTOFF = calendar.BusinessCalendar("Europe/Berlin", holidays_country="DE")
BERLIN_8AM = calendar.BusinessCalendar(
    "Europe/Berlin", holidays_country="DE", cutoff=time(14), day_start=time(8)
)
BERLIN_CLOSED_XMAS = calendar.BusinessCalendar(
    "Europe/Berlin",
    holidays_country="DE",
    cutoff=time(14),
    extra_holidays=frozenset({date(2026, 12, 24), date(2026, 12, 31)}),
)
BERLIN_ALWAYS = calendar.BusinessCalendar("Europe/Berlin", working_days=WEEK)
BERLIN_7_DAYS = calendar.BusinessCalendar("Europe/Berlin", working_days=WEEK, cutoff=time(14))


@dataclass(frozen=True)
class Row:
    cal: calendar.BusinessCalendar
    op: str  # days | clock | hours | business_hours
    event: str  # local wall time in cal's zone
    amount: float
    expected: str  # local ISO time with its offset, as a wall clock would show it
    why: str


ROWS = [
    # --- business days, United States (New York, cut-off 14:00) ---
    Row(NY, "days", "2026-07-02 10:00", 1, "2026-07-06T14:00:00-04:00",
        "Thu is day 0; Fri 3 Jul is Independence Day observed, then the weekend: day 1 = Mon"),
    Row(NY, "days", "2026-07-02 15:00", 2, "2026-07-08T14:00:00-04:00",
        "after cut-off Thu counts from Mon 6 Jul (Fri observed holiday): day 2 = Wed 8 Jul"),
    Row(NY, "days", "2026-07-03 09:00", 0, "2026-07-06T14:00:00-04:00",
        "event on the observed holiday itself: same-day deadline moves to Mon 6 Jul"),
    Row(NY, "days", "2026-11-25 15:00", 1, "2026-11-30T14:00:00-05:00",
        "Wed after cut-off -> Thanksgiving Thu skipped, clock Fri 27 Nov, day 1 = Mon 30 Nov"),
    Row(NY, "days", "2026-11-25 10:00", 1, "2026-11-27T14:00:00-05:00",
        "Wed before cut-off is day 0; Thanksgiving skipped; Fri after it is a business day"),
    Row(NY, "days", "2026-09-04 15:00", 2, "2026-09-10T14:00:00-04:00",
        "Fri 15:00 after cut-off before Labor Day Mon 7 Sep: clock Tue 8, day 2 = Thu 10 Sep"),
    Row(NY, "days", "2026-01-16 15:00", 2, "2026-01-22T14:00:00-05:00",
        "Fri 15:00 before MLK Day Mon 19 Jan: clock Tue 20, day 2 = Thu 22 Jan"),
    Row(NY, "days", "2026-03-06 15:00", 2, "2026-03-11T14:00:00-04:00",
        "Fri after cut-off, DST starts Sun 8 Mar: clock Mon 9, day 2 Wed 11 at 14:00 EDT"),
    Row(NY, "days", "2026-03-06 10:00", 1, "2026-03-09T14:00:00-04:00",
        "Fri 10:00 EST, day 1 = Mon 9 Mar, wall time 14:00 kept across the spring change"),
    Row(NY, "days", "2026-10-30 10:00", 1, "2026-11-02T14:00:00-05:00",
        "Fri 10:00 EDT, DST ends Sun 1 Nov: day 1 = Mon 2 Nov at 14:00 EST"),
    Row(NY, "days", "2026-12-30 15:00", 1, "2027-01-04T14:00:00-05:00",
        "Wed after cut-off -> clock Thu 31 Dec; Fri 1 Jan 2027 New Year: day 1 = Mon 4 Jan"),
    # --- business days, Germany (Berlin, cut-off 14:00) ---
    Row(BERLIN, "days", "2026-05-22 15:00", 2, "2026-05-28T14:00:00+02:00",
        "Fri 15:00 after cut-off before Whit Monday 25 May: clock Tue 26, day 2 = Thu 28"),
    Row(BERLIN, "days", "2026-04-02 15:00", 1, "2026-04-08T14:00:00+02:00",
        "Thu after cut-off; Good Friday, weekend, Easter Monday closed: clock Tue 7, day 1 Wed"),
    Row(BERLIN, "days", "2026-03-27 15:00", 1, "2026-03-31T14:00:00+02:00",
        "Fri 15:00 CET after cut-off, DST Sun 29 Mar: clock Mon 30, day 1 Tue 31 at 14:00 CEST"),
    Row(BERLIN, "days", "2026-10-23 10:00", 1, "2026-10-26T14:00:00+01:00",
        "Fri 10:00 CEST, DST ends Sun 25 Oct: day 1 = Mon 26 Oct at 14:00 CET"),
    Row(BERLIN_BY, "days", "2026-01-05 10:00", 1, "2026-01-07T14:00:00+01:00",
        "Bavaria: Tue 6 Jan Epiphany is a holiday, so day 1 = Wed 7 Jan"),
    Row(BERLIN, "days", "2026-01-05 10:00", 1, "2026-01-06T14:00:00+01:00",
        "same event, national calendar only: Epiphany is not a federal holiday, day 1 = Tue 6"),
    Row(BERLIN_BY, "days", "2026-06-03 10:00", 1, "2026-06-05T14:00:00+02:00",
        "Bavaria: Corpus Christi Thu 4 Jun closed, day 1 = Fri 5 Jun"),
    Row(BERLIN, "days", "2026-06-08 14:00:00", 1, "2026-06-10T14:00:00+02:00",
        "exactly at the 14:00:00 cut-off counts from Tue 9 Jun: day 1 = Wed 10 Jun"),
    Row(BERLIN, "days", "2026-06-08 13:59:59", 1, "2026-06-09T14:00:00+02:00",
        "one second before the cut-off: Mon 8 Jun is day 0, day 1 = Tue 9 Jun"),
    Row(BERLIN, "days", "2026-06-08 10:00", 0, "2026-06-08T14:00:00+02:00",
        "zero days before cut-off: due at today's cut-off"),
    Row(BERLIN, "days", "2026-06-08 14:00", 0, "2026-06-09T14:00:00+02:00",
        "zero days at the cut-off: due at tomorrow's cut-off"),
    Row(BERLIN, "days", "2026-06-06 10:00", 0, "2026-06-08T14:00:00+02:00",
        "zero days on a Saturday: due Monday 8 Jun at the cut-off"),
    Row(BERLIN_NO_CUTOFF, "days", "2026-06-08 23:30", 0, "2026-06-09T00:00:00+02:00",
        "no cut-off: a late Monday event still counts for Monday; end of Mon is Tue 00:00"),
    Row(BERLIN_NO_CUTOFF, "days", "2026-05-22 23:30", 1, "2026-05-27T00:00:00+02:00",
        "no cut-off: Fri is day 0, Whit Monday skipped, day 1 = Tue 26 May ends Wed 00:00"),
    Row(BERLIN, "days", "2026-12-23 15:00", 1, "2026-12-28T14:00:00+01:00",
        "Wed after cut-off: Thu 24 Dec is day 0 (not a statutory holiday); 25/26 Dec closed"),
    Row(BERLIN_CLOSED_XMAS, "days", "2026-12-23 15:00", 1, "2026-12-29T14:00:00+01:00",
        "retailer also closed 24 Dec: clock Mon 28 Dec, day 1 = Tue 29 Dec"),
    Row(BERLIN_CLOSED_XMAS, "days", "2026-12-30 15:00", 0, "2027-01-04T14:00:00+01:00",
        "retailer closed 31 Dec, 1 Jan New Year, weekend: same-day deadline on Mon 4 Jan 2027"),
    # --- Saturday-working retailer (New York, Mon-Sat) ---
    Row(NY_SAT, "days", "2026-03-06 10:00", 1, "2026-03-07T14:00:00-05:00",
        "Mon-Sat retailer: Fri is day 0, Sat 7 Mar is day 1 (still EST)"),
    Row(NY_SAT, "days", "2026-03-06 15:00", 1, "2026-03-09T14:00:00-04:00",
        "after cut-off Fri -> clock Sat 7 Mar; Sun off; day 1 = Mon 9 Mar at 14:00 EDT"),
    Row(NY_SAT, "days", "2026-07-04 10:00", 0, "2026-07-06T14:00:00-04:00",
        "Sat 4 Jul is Independence Day itself, closed even for a Saturday retailer; Sun off"),
    # --- start of clock ---
    Row(NY, "clock", "2026-03-07 10:00", 0, "2026-03-09T00:00:00-04:00",
        "Saturday event starts Mon 9 Mar at local midnight (already EDT)"),
    Row(BERLIN, "clock", "2026-06-08 13:59:59", 0, "2026-06-08T13:59:59+02:00",
        "business day before the cut-off: the clock starts at the event"),
    Row(BERLIN, "clock", "2026-06-08 14:00:00", 0, "2026-06-09T00:00:00+02:00",
        "at the cut-off: next business day at midnight"),
    Row(BERLIN_8AM, "clock", "2026-10-23 16:00", 0, "2026-10-26T08:00:00+01:00",
        "day_start 08:00: Fri after cut-off starts Mon 26 Oct 08:00 CET (after the fall change)"),
    Row(BERLIN_7_DAYS, "clock", "2026-03-28 15:00", 0, "2026-03-29T00:00:00+01:00",
        "7-day retailer: Sat after cut-off starts Sun 29 Mar 00:00, still CET (change at 02:00)"),
    Row(BERLIN_7_DAYS, "days", "2026-10-24 15:00", 0, "2026-10-25T14:00:00+01:00",
        "7-day retailer: Sat after cut-off -> Sun 25 Oct is day 0, its cut-off is 14:00 CET"),
    # --- real hours: elapsed time, DST days are 23 or 25 hours on the wall ---
    Row(BERLIN_ALWAYS, "hours", "2026-03-28 12:00", 24, "2026-03-29T13:00:00+02:00",
        "24 real hours across the spring change land at 13:00 CEST"),
    Row(BERLIN_ALWAYS, "hours", "2026-10-24 12:00", 24, "2026-10-25T11:00:00+01:00",
        "24 real hours across the fall change land at 11:00 CET"),
    Row(NY_ALWAYS, "hours", "2026-03-07 12:00", 24, "2026-03-08T13:00:00-04:00",
        "24 real hours across 8 Mar land at 13:00 EDT"),
    Row(NY_ALWAYS, "hours", "2026-10-31 12:00", 24, "2026-11-01T11:00:00-05:00",
        "24 real hours across 1 Nov land at 11:00 EST"),
    Row(NY, "hours", "2026-07-02 15:00", 4, "2026-07-02T19:00:00-04:00",
        "real hours ignore cut-off and holidays: Thu 15:00 + 4 h = 19:00"),
    # --- business hours ---
    Row(BERLIN_ALWAYS, "business_hours", "2026-03-28 00:00", 48, "2026-03-30T01:00:00+02:00",
        "whole-day windows: Sat has 24 h, Sun 29 Mar only 23 h, so 1 h is left for Monday"),
    Row(BERLIN_ALWAYS, "business_hours", "2026-10-24 00:00", 48, "2026-10-25T23:00:00+01:00",
        "whole-day windows: Sat 24 h + Sun 25 Oct has 25 h, so 48 h end at Sun 23:00 CET"),
    Row(NY_OFFICE, "business_hours", "2026-07-02 11:00", 8, "2026-07-06T11:00:00-04:00",
        "office 9-17: Thu 11-17 gives 6 h; Fri 3 Jul observed holiday; 2 h on Mon 6 Jul"),
    Row(NY_OFFICE, "business_hours", "2026-07-02 16:00", 4, "2026-07-06T13:00:00-04:00",
        "after the cut-off: counted from Mon 6 Jul 09:00, so 4 h end at 13:00"),
    Row(NY_OFFICE, "business_hours", "2026-06-08 09:00", 8, "2026-06-08T17:00:00-04:00",
        "exactly one window: ends at Mon 17:00, not Tue 09:00"),
    Row(NY_OFFICE, "business_hours", "2026-06-08 07:00", 1, "2026-06-08T10:00:00-04:00",
        "before opening: counting begins at 09:00"),
    Row(NY_OFFICE, "business_hours", "2026-06-06 10:00", 0, "2026-06-08T09:00:00-04:00",
        "zero business hours from a Saturday: Monday's opening"),
    Row(BERLIN_NO_CUTOFF, "business_hours", "2026-10-23 20:00", 6, "2026-10-26T02:00:00+01:00",
        "Mon-Fri whole days: Fri 20-24 gives 4 h, the weekend is skipped, 2 h into Monday"),
]  # fmt: skip


def local(cal: calendar.BusinessCalendar, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=cal.zone)


def run(row: Row) -> datetime:
    start = local(row.cal, row.event)
    if row.op == "days":
        return calendar.add_business_days(row.cal, start, int(row.amount))
    if row.op == "clock":
        return calendar.start_of_clock(row.cal, start)
    return calendar.add_hours(row.cal, start, row.amount, row.op == "business_hours")


def test_table_is_large_enough() -> None:
    assert len(ROWS) >= 25


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.op}-{r.event}-{r.amount}" for r in ROWS])
def test_calendar_table(row: Row) -> None:
    result = run(row)
    assert result.tzinfo is UTC, "results are stored in UTC"
    assert result.astimezone(row.cal.zone).isoformat() == row.expected, row.why


def test_input_zone_does_not_matter() -> None:
    # Fri 3 Jul 2026 01:00 in Tokyo is Thu 2 Jul 12:00 in New York: before the cut-off.
    tokyo = datetime(2026, 7, 3, 1, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    due = calendar.add_business_days(NY, tokyo, 1)
    assert due.astimezone(NY.zone).isoformat() == "2026-07-06T14:00:00-04:00"


def test_business_time_between_skips_closed_days_and_counts_real_hours() -> None:
    fri = local(BERLIN_NO_CUTOFF, "2026-03-27 12:00")
    tue = local(BERLIN_NO_CUTOFF, "2026-03-31 12:00")
    # Fri 12 h + Mon 24 h (CEST, a normal day) + Tue 12 h; the 23-hour Sunday is closed.
    assert calendar.business_time_between(BERLIN_NO_CUTOFF, fri, tue) == timedelta(hours=48)
    sat = local(BERLIN_ALWAYS, "2026-03-28 00:00")
    mon = local(BERLIN_ALWAYS, "2026-03-30 00:00")
    assert calendar.business_time_between(BERLIN_ALWAYS, sat, mon) == timedelta(hours=47)
    assert calendar.business_time_between(BERLIN_ALWAYS, mon, sat) == timedelta(0)


def test_office_hours_between() -> None:
    thu = local(NY_OFFICE, "2026-07-02 08:00")
    tue = local(NY_OFFICE, "2026-07-07 10:30")
    # Thu 9-17 = 8 h, Fri observed holiday, weekend, Mon 8 h, Tue 9-10:30 = 1.5 h.
    assert calendar.business_time_between(NY_OFFICE, thu, tue) == timedelta(hours=17.5)


@pytest.mark.parametrize(
    ("cal", "day", "expected"),
    [
        (NY, date(2026, 7, 3), False),  # Independence Day observed (Fri)
        (NY, date(2026, 7, 2), True),  # ordinary Thursday
        (NY, date(2026, 11, 26), False),  # Thanksgiving
        (NY_SAT, date(2026, 3, 7), True),  # Saturday for a Mon-Sat retailer
        (NY, date(2026, 3, 7), False),  # Saturday for a Mon-Fri retailer
        (BERLIN_BY, date(2026, 1, 6), False),  # Epiphany in Bavaria
        (BERLIN, date(2026, 1, 6), True),  # not a national holiday
        (BERLIN, date(2026, 10, 3), False),  # German Unity Day (a Saturday anyway)
        (BERLIN, date(2026, 5, 14), False),  # Ascension Day
        (BERLIN_CLOSED_XMAS, date(2026, 12, 24), False),  # retailer's own closed day
    ],
)
def test_is_business_day(cal: calendar.BusinessCalendar, day: date, expected: bool) -> None:
    assert calendar.is_business_day(cal, day) is expected


def test_next_business_day_crosses_easter() -> None:
    assert calendar.next_business_day(BERLIN, date(2026, 4, 2)) == date(2026, 4, 7)


def test_holiday_tables_are_built_once_per_year(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []
    real = holidays.country_holidays

    def counting(*args: object, **kwargs: object) -> object:
        built.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    calendar._holiday_dates.cache_clear()
    monkeypatch.setattr(holidays, "country_holidays", counting)
    for offset in range(300):
        calendar.is_business_day(BERLIN, date(2026, 1, 1) + timedelta(days=offset))
    assert len(built) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"timezone": "UTC", "working_days": frozenset()}, "working days"),
        ({"timezone": "UTC", "working_days": frozenset({7})}, "working days"),
        ({"timezone": "UTC", "holidays_country": "XX"}, "no holiday table"),
        ({"timezone": "UTC", "holidays_country": "DE", "holidays_subdiv": "by"}, "no holiday"),
        ({"timezone": "UTC", "holidays_subdiv": "BY"}, "without a country"),
        ({"timezone": "UTC", "cutoff": time(0)}, "cutoff"),
        ({"timezone": "UTC", "day_start": time(9), "day_end": time(9)}, "day_end"),
        ({"timezone": "UTC", "cutoff": time(18), "day_end": time(17)}, "cutoff"),
        ({"timezone": "UTC", "cutoff": time(14, tzinfo=UTC)}, "wall times"),
    ],
)
def test_invalid_calendars_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(calendar.CalendarError, match=message):
        calendar.BusinessCalendar(**kwargs)  # type: ignore[arg-type]


def test_naive_and_negative_inputs_are_refused() -> None:
    naive = datetime(2026, 6, 8, 10, 0)
    aware = local(BERLIN, "2026-06-08 10:00")
    with pytest.raises(calendar.CalendarError, match="aware"):
        calendar.start_of_clock(BERLIN, naive)
    with pytest.raises(calendar.CalendarError, match="aware"):
        calendar.add_hours(BERLIN, naive, 1, business_hours_only=False)
    with pytest.raises(calendar.CalendarError, match="aware"):
        calendar.business_time_between(BERLIN, naive, aware)
    with pytest.raises(calendar.CalendarError, match="negative"):
        calendar.add_business_days(BERLIN, aware, -1)
    with pytest.raises(calendar.CalendarError, match="non-negative"):
        calendar.add_hours(BERLIN, aware, float("nan"), business_hours_only=True)


def test_a_calendar_without_business_days_is_reported() -> None:
    closed = calendar.BusinessCalendar(
        "UTC",
        working_days=frozenset({0}),
        extra_holidays=frozenset(date(2026, 1, 5) + timedelta(weeks=k) for k in range(200)),
    )
    with pytest.raises(calendar.CalendarError, match="no business day"):
        calendar.next_business_day(closed, date(2026, 1, 1))


@given(
    start=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
    n=st.integers(min_value=0, max_value=30),
)
def test_deadlines_end_at_the_cutoff_of_a_business_day_and_grow_with_n(
    start: datetime, n: int
) -> None:
    due = calendar.add_business_days(BERLIN_BY, start, n)
    wall = due.astimezone(BERLIN_BY.zone)
    assert wall.time() == time(14)
    assert calendar.is_business_day(BERLIN_BY, wall.date())
    assert due > start
    assert calendar.add_business_days(BERLIN_BY, start, n + 1) > due
