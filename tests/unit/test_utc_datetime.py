"""UTCDateTime on SQLite writes exactly the text SQLAlchemy's DATETIME would write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, MetaData, Table, create_engine, insert, select
from sqlalchemy.dialects.sqlite import DATETIME

from tidings.storage.types import UTCDateTime

VALUES = [
    datetime(2026, 12, 4, 18, 42, 33, 123456, tzinfo=UTC),
    datetime(2026, 12, 4, 18, 42, 33, tzinfo=UTC),  # no microseconds: still six digits
    datetime(2026, 12, 4, 23, 30, tzinfo=timezone(timedelta(hours=-5))),  # the next day in UTC
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


def test_the_text_is_sqlalchemys() -> None:
    dialect = create_engine("sqlite://").dialect
    ours = UTCDateTime().bind_processor(dialect)
    theirs = DATETIME().bind_processor(dialect)
    assert ours is not None and theirs is not None
    for value in VALUES:
        assert ours(value) == theirs(value.astimezone(UTC).replace(tzinfo=None)), value
    assert ours(None) is None
    with pytest.raises(ValueError, match="naive"):
        ours(datetime(2026, 12, 4))


def test_values_round_trip_and_compare_in_time_order() -> None:
    engine = create_engine("sqlite://")
    table = Table("t", MetaData(), Column("at", UTCDateTime))
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"at": v} for v in VALUES])
        back = list(conn.execute(select(table.c.at)).scalars())
        later = list(conn.execute(select(table.c.at).where(table.c.at > VALUES[0])).scalars())
    assert back == VALUES
    assert sorted(later) == sorted(v for v in VALUES if v > VALUES[0])
