"""Digest schedules. Expected instants were written from a printed 2026 calendar and ``zdump``:
Berlin changes on Sun 29 Mar (02:00 -> 03:00) and Sun 25 Oct (03:00 -> 02:00), New York on
Sun 8 Mar (02:00 -> 03:00) and Sun 1 Nov (02:00 -> 01:00), Sydney on Sun 5 Apr (03:00 -> 02:00).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings.sla import schedule

MWF_0830 = "30 8 * * 1,3,5"
DAILY_0230 = "30 2 * * *"


def at(tz: str, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def walls(tz: str, instants: list[datetime]) -> list[str]:
    assert all(i.tzinfo is UTC for i in instants)
    return [i.astimezone(ZoneInfo(tz)).isoformat() for i in instants]


# --- editing shape: days of week + time of day <-> cron ---


@pytest.mark.parametrize(
    ("days", "wall", "cron"),
    [
        ({0, 2, 4}, time(8, 30), "30 8 * * 1,3,5"),  # Mon/Wed/Fri
        ({6}, time(0, 0), "0 0 * * 0"),  # Sunday is cron 0
        ({5, 6}, time(23, 59), "59 23 * * 0,6"),  # weekend, sorted by cron number
        ({0, 1, 2, 3, 4}, time(7, 5), "5 7 * * 1,2,3,4,5"),
        (set(range(7)), time(9, 0), "0 9 * * *"),  # every day
    ],
)
def test_to_cron_and_back(days: set[int], wall: time, cron: str) -> None:
    assert schedule.to_cron(days, wall) == cron
    assert schedule.from_cron(cron) == (frozenset(days), wall)


@pytest.mark.parametrize(
    ("cron", "days", "wall"),
    [
        ("30 8 * * 1-5", {0, 1, 2, 3, 4}, time(8, 30)),  # range
        ("0 0 * * 7", {6}, time(0, 0)),  # 7 is Sunday too
        ("0 0 * * 0,7", {6}, time(0, 0)),
        ("00 08 * * 1", {0}, time(8, 0)),  # leading zeros
        ("15  6 * *  6", {5}, time(6, 15)),  # extra blanks
        ("0 12 * * 0-6", set(range(7)), time(12, 0)),
    ],
)
def test_from_cron_accepts_equivalent_spellings(cron: str, days: set[int], wall: time) -> None:
    assert schedule.from_cron(cron) == (frozenset(days), wall)


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("*/5 * * * *", "minute"),
        ("30 8-17 * * 1", "hour"),
        ("30 8,9 * * 1", "hour"),
        ("60 8 * * 1", "minute"),
        ("30 24 * * 1", "hour"),
        ("30 8 1 * *", "day-of-month"),
        ("30 8 * 1 *", "month"),
        ("30 8 * * 1/2", "days"),
        ("30 8 * * 8", "days"),
        ("30 8 * * 5-1", "days"),
        ("30 8 * * mon", "days"),
        ("30 8 * * 1,", "days"),
        ("30 8 * *", "5 fields"),
        ("0 30 8 * * 1", "5 fields"),
        ("@daily", "5 fields"),
        ("", "5 fields"),
    ],
)
def test_from_cron_refuses_other_shapes(cron: str, message: str) -> None:
    with pytest.raises(schedule.ScheduleError, match=message):
        schedule.from_cron(cron)


@pytest.mark.parametrize(
    ("days", "wall"),
    [(set(), time(8)), ({7}, time(8)), ({1}, time(8, 0, 30)), ({1}, time(8, tzinfo=UTC))],
)
def test_to_cron_refuses_what_cron_cannot_say(days: set[int], wall: time) -> None:
    with pytest.raises(schedule.ScheduleError):
        schedule.to_cron(days, wall)


@given(
    days=st.frozensets(st.integers(0, 6), min_size=1),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
)
def test_round_trip_for_every_editable_schedule(
    days: frozenset[int], hour: int, minute: int
) -> None:
    assert schedule.from_cron(schedule.to_cron(days, time(hour, minute))) == (
        days,
        time(hour, minute),
    )


# --- a fortnight of Mon/Wed/Fri 08:30, each crossing its zone's DST change ---


@pytest.mark.parametrize(
    ("tz", "monday", "expected"),
    [
        ("Europe/Berlin", "2026-03-23", [
            "2026-03-23T08:30:00+01:00", "2026-03-25T08:30:00+01:00", "2026-03-27T08:30:00+01:00",
            "2026-03-30T08:30:00+02:00", "2026-04-01T08:30:00+02:00", "2026-04-03T08:30:00+02:00",
        ]),
        ("America/New_York", "2026-03-02", [
            "2026-03-02T08:30:00-05:00", "2026-03-04T08:30:00-05:00", "2026-03-06T08:30:00-05:00",
            "2026-03-09T08:30:00-04:00", "2026-03-11T08:30:00-04:00", "2026-03-13T08:30:00-04:00",
        ]),
        ("Australia/Sydney", "2026-03-30", [
            "2026-03-30T08:30:00+11:00", "2026-04-01T08:30:00+11:00", "2026-04-03T08:30:00+11:00",
            "2026-04-06T08:30:00+10:00", "2026-04-08T08:30:00+10:00", "2026-04-10T08:30:00+10:00",
        ]),
        ("Europe/Berlin", "2026-10-19", [
            "2026-10-19T08:30:00+02:00", "2026-10-21T08:30:00+02:00", "2026-10-23T08:30:00+02:00",
            "2026-10-26T08:30:00+01:00", "2026-10-28T08:30:00+01:00", "2026-10-30T08:30:00+01:00",
        ]),
        ("America/New_York", "2026-10-26", [
            "2026-10-26T08:30:00-04:00", "2026-10-28T08:30:00-04:00", "2026-10-30T08:30:00-04:00",
            "2026-11-02T08:30:00-05:00", "2026-11-04T08:30:00-05:00", "2026-11-06T08:30:00-05:00",
        ]),
    ],
)  # fmt: skip
def test_a_fortnight_of_mon_wed_fri(tz: str, monday: str, expected: list[str]) -> None:
    start = at(tz, f"{monday} 00:00")
    end = start + timedelta(days=14)
    runs = [r for r in schedule.next_runs(MWF_0830, tz, start, 10) if r < end]
    assert walls(tz, runs) == expected


def test_next_runs_are_strictly_after() -> None:
    first = at("Europe/Berlin", "2026-03-23 08:30")
    runs = schedule.next_runs(MWF_0830, "Europe/Berlin", first, 1)
    assert walls("Europe/Berlin", runs) == ["2026-03-25T08:30:00+01:00"]
    assert schedule.next_runs(MWF_0830, "Europe/Berlin", first, 0) == []


# --- DST: a slot in the gap fires once, shifted; a slot in the fold fires once ---


@pytest.mark.parametrize(
    ("cron", "tz", "after", "expected"),
    [
        # Berlin 29 Mar: 02:30 does not exist; fires once at 03:00 CEST.
        (DAILY_0230, "Europe/Berlin", "2026-03-28 12:00",
         ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"]),
        # New York 8 Mar: 02:30 does not exist; fires once at 03:00 EDT.
        (DAILY_0230, "America/New_York", "2026-03-07 12:00",
         ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]),
        # Berlin 25 Oct: 02:30 happens twice (CEST, then CET); fires once, at the first.
        (DAILY_0230, "Europe/Berlin", "2026-10-24 12:00",
         ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00", "2026-10-27T02:30:00+01:00"]),
        # New York 1 Nov: 01:30 happens twice (EDT, then EST); fires once.
        ("30 1 * * *", "America/New_York", "2026-10-31 12:00",
         ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]),
        # Sydney 5 Apr: a Sunday-only 02:30 digest in the fold fires once that Sunday.
        ("30 2 * * 0", "Australia/Sydney", "2026-04-04 12:00",
         ["2026-04-05T02:30:00+11:00", "2026-04-12T02:30:00+10:00"]),
    ],
)  # fmt: skip
def test_dst_changes_fire_each_slot_once(
    cron: str, tz: str, after: str, expected: list[str]
) -> None:
    runs = schedule.next_runs(cron, tz, at(tz, after), len(expected))
    assert walls(tz, runs) == expected


def test_next_runs_from_inside_the_fold_skip_the_second_fire() -> None:
    # 00:45Z is 02:45 CEST: the 02:30 slot of 25 Oct already fired at 00:30Z.
    runs = schedule.next_runs(DAILY_0230, "Europe/Berlin", utc("2026-10-25 00:45"), 1)
    assert walls("Europe/Berlin", runs) == ["2026-10-26T02:30:00+01:00"]


def test_slot_key_names_the_slot_not_the_instant() -> None:
    berlin = "Europe/Berlin"
    # croniter's two fires of the fold (00:30Z = 02:30 CEST, 01:30Z = 02:30 CET) share a key.
    assert schedule.slot_key(DAILY_0230, berlin, utc("2026-10-25 00:30")) == "2026-10-25T02:30"
    assert schedule.slot_key(DAILY_0230, berlin, utc("2026-10-25 01:30")) == "2026-10-25T02:30"
    # The shifted spring fire (03:00 CEST = 01:00Z) is the 02:30 slot of 29 Mar.
    assert schedule.slot_key(DAILY_0230, berlin, utc("2026-03-29 01:00")) == "2026-03-29T02:30"
    # Sydney: Mon 08:30 AEDT is Sun 21:30Z; the key uses the local date.
    sydney = schedule.slot_key(MWF_0830, "Australia/Sydney", utc("2026-03-29 21:30"))
    assert sydney == "2026-03-30T08:30"


def test_slot_key_refuses_a_day_the_schedule_does_not_have() -> None:
    with pytest.raises(schedule.ScheduleError, match="no day"):
        schedule.slot_key(MWF_0830, "Europe/Berlin", at("Europe/Berlin", "2026-03-24 08:30"))


# --- due slot: catch-up fires one digest, the latest missed ---


@pytest.mark.parametrize(
    ("cron", "tz", "last", "now", "expected"),
    [
        # daily 08:30, down from Mon after its digest until Thu 10:00: one digest, Thursday's.
        ("30 8 * * *", "Europe/Berlin", "2026-06-08 08:30", "2026-06-11 10:00",
         "2026-06-11T08:30:00+02:00"),
        # ... and nothing more the same morning.
        ("30 8 * * *", "Europe/Berlin", "2026-06-11 08:30", "2026-06-11 10:05", None),
        # Mon/Wed/Fri, down Tue-Fri noon: Wed and Fri missed, only Fri is sent.
        (MWF_0830, "Europe/Berlin", "2026-03-30 08:30", "2026-04-03 12:00",
         "2026-04-03T08:30:00+02:00"),
        # same, but back before Friday's slot: Wednesday's is the latest missed.
        (MWF_0830, "Europe/Berlin", "2026-03-30 08:30", "2026-04-03 08:00",
         "2026-04-01T08:30:00+02:00"),
        # due at the slot's very instant.
        (MWF_0830, "America/New_York", "2026-03-06 08:30", "2026-03-09 08:30",
         "2026-03-09T08:30:00-04:00"),
        # never fired: the latest past slot (Fri 27 Mar, CET) is due.
        (MWF_0830, "Europe/Berlin", None, "2026-03-29 12:00", "2026-03-27T08:30:00+01:00"),
        # subscription created Mon 07:00 (stored as last): nothing due at 08:00, the slot at 08:30.
        (MWF_0830, "Europe/Berlin", "2026-06-08 07:00", "2026-06-08 08:00", None),
        (MWF_0830, "Europe/Berlin", "2026-06-08 07:00", "2026-06-08 08:30",
         "2026-06-08T08:30:00+02:00"),
        # spring gap: the 02:30 slot of 29 Mar is due from 03:00 CEST.
        (DAILY_0230, "Europe/Berlin", "2026-03-28 02:30", "2026-03-29 03:05",
         "2026-03-29T03:00:00+02:00"),
        (DAILY_0230, "Europe/Berlin", "2026-03-28 02:30", "2026-03-29 01:59", None),
    ],
)  # fmt: skip
def test_due_slot(cron: str, tz: str, last: str | None, now: str, expected: str | None) -> None:
    last_at = None if last is None else at(tz, last)
    due = schedule.due_slot(cron, tz, last_at, at(tz, now))
    assert (None if due is None else walls(tz, [due])[0]) == expected


def test_due_slot_in_the_fold_fires_once() -> None:
    tz = "Europe/Berlin"
    first = schedule.due_slot(DAILY_0230, tz, utc("2026-10-24 00:30"), utc("2026-10-25 00:40"))
    assert first == utc("2026-10-25 00:30")  # 02:30 CEST
    # 01:40Z is 02:40 CET, after croniter's second 02:30: already fired.
    assert schedule.due_slot(DAILY_0230, tz, first, utc("2026-10-25 01:40")) is None


@pytest.mark.parametrize(
    ("tz", "start", "last", "expected"),
    [
        ("Europe/Berlin", "2026-10-24 00:00", "2026-10-23 00:30", [
            "2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00",
        ]),
        ("Europe/Berlin", "2026-03-28 00:00", "2026-03-27 01:30", [
            "2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00",
        ]),
        ("America/New_York", "2026-10-31 04:00", "2026-10-30 06:30", [
            "2026-10-31T02:30:00-04:00", "2026-11-01T02:30:00-05:00", "2026-11-02T02:30:00-05:00",
        ]),
    ],
)  # fmt: skip
def test_a_ticking_scheduler_sends_one_digest_per_day(
    tz: str, start: str, last: str, expected: list[str]
) -> None:
    """A scheduler asking every 10 minutes for three days sends exactly one digest a day."""
    now, last_at, sent = utc(start), utc(last), []
    for _ in range(3 * 24 * 6):
        due = schedule.due_slot(DAILY_0230, tz, last_at, now)
        if due is not None:
            sent.append(due)
            last_at = due
        now += timedelta(minutes=10)
    assert walls(tz, sent) == expected


def test_inputs_are_checked() -> None:
    naive = datetime(2026, 6, 8, 8, 30)
    aware = at("Europe/Berlin", "2026-06-08 08:30")
    with pytest.raises(schedule.ScheduleError, match="aware"):
        schedule.next_runs(MWF_0830, "Europe/Berlin", naive, 1)
    with pytest.raises(schedule.ScheduleError, match="aware"):
        schedule.due_slot(MWF_0830, "Europe/Berlin", naive, aware)
    with pytest.raises(schedule.ScheduleError, match="aware"):
        schedule.slot_key(MWF_0830, "Europe/Berlin", naive)
    with pytest.raises(schedule.ScheduleError, match="unknown time zone"):
        schedule.next_runs(MWF_0830, "Europe/Atlantis", aware, 1)
    with pytest.raises(schedule.ScheduleError, match="negative"):
        schedule.next_runs(MWF_0830, "Europe/Berlin", aware, -1)
    with pytest.raises(schedule.ScheduleError, match="day-of-month"):
        schedule.next_runs("30 8 1 * *", "Europe/Berlin", aware, 1)
