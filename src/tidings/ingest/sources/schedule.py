"""When a source runs next: an interval (``every``) or a cron line in a time zone.

Pure: the caller passes the time of the last run. Cron is read by croniter
on the wall clock of ``timezone`` (so ``0 2 * * *`` stays 02:00 across DST
changes) and the answer is returned in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from tidings.ingest.sources.config import SourceConfigBase

__all__ = ["DEFAULT_EVERY", "next_run"]

DEFAULT_EVERY = timedelta(seconds=60)


def next_run(config: SourceConfigBase, after: datetime) -> datetime:
    """The first run time strictly after ``after`` (aware, UTC)."""
    if config.cron is not None:
        local = after.astimezone(ZoneInfo(config.timezone))
        following: datetime = croniter(config.cron, local).get_next(datetime)
        return following.astimezone(UTC)
    return after + (config.every or DEFAULT_EVERY)


def check(config: SourceConfigBase) -> str | None:
    """What is wrong with the schedule, or None."""
    if config.cron is not None and not croniter.is_valid(config.cron):
        return f"cron {config.cron!r} is not a valid cron line"
    try:
        ZoneInfo(config.timezone)
    except (KeyError, ValueError):
        return f"timezone {config.timezone!r} is unknown"
    return None
