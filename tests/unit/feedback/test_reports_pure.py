"""CSV neutralisation, PNG charts and report periods (pure parts of ``tidings.reports``)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from PIL import Image

from tidings.feedback.config import ReportConfig
from tidings.reports import charts, csv_export, scheduled
from tidings.reports.metrics import Query, rates


@pytest.mark.parametrize(("value", "cell"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-1+1", "'-1+1"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("web-shop", "web-shop"),
    (None, ""), (3, "3"), (0.25, "0.2500"), (True, "true"),
])
def test_neutralise(value: object, cell: str) -> None:
    assert csv_export.neutralise(value) == cell


def test_csv_parses_back_with_no_formula_cell() -> None:
    rows = [{"template": "=cmd|' /C calc'!A0", "queued": 2, "open_rate": 0.5},
            {"template": "a,\"b\"\nc", "queued": 1, "open_rate": None}]
    parsed = list(csv.reader(io.StringIO(csv_export.to_csv(rows, ["template", "queued",
                                                                  "open_rate"]))))
    assert parsed == [["template", "queued", "open_rate"],
                      ["'=cmd|' /C calc'!A0", "2", "0.5000"], ["a,\"b\"\nc", "1", ""]]
    assert not any(c.startswith(csv_export.FORMULA_STARTS) for row in parsed for c in row)


def test_bar_chart_is_a_png_of_the_declared_size() -> None:
    png = charts.bar_chart("Messages per day", ["2026-01-05", "2026-01-06"],
                           {"sent": [10, 20], "bounced": [1, 0]})
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    assert image.size == (charts.WIDTH_PX, charts.HEIGHT_PX)
    colours = {c for _, c in image.getcolors(maxcolors=100_000) or []}
    assert (37, 99, 235) in colours  # the first series' blue bars were drawn
    assert charts.bar_chart("t", ["a"], {"s": [1]}) == charts.bar_chart("t", ["a"], {"s": [1]})


def test_empty_chart_still_renders() -> None:
    assert Image.open(io.BytesIO(charts.bar_chart("none", [], {}))).format == "PNG"


def test_rates() -> None:
    row = {"sent": 10, "delivered": 8, "bounced_hard": 1, "bounced_soft": 1, "complained": 1,
           "reached": 9, "opened_human": 3, "clicked_human": 0}
    assert rates(row) == {"delivery_rate": 0.8, "bounce_rate": 0.2, "complaint_rate": 0.1111,
                          "open_rate": 0.3333, "click_rate": 0.0, "click_to_open_rate": 0.0}
    assert rates(dict.fromkeys(row, 0))["delivery_rate"] is None


def test_query_refuses_unknown_dimensions() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="unknown dimension"):
        Query(start, start, group_by=("colour",))
    with pytest.raises(ValueError, match="start and end"):
        Query(start, start, filters={"day": "2026-01-01"})


def weekly(**overrides: object) -> ReportConfig:
    values: dict[str, object] = {"name": "weekly", "tenant": "acme", "recipients": ["o@a.example"],
                                 "cron": "0 8 * * 1", "timezone": "Europe/Berlin", "days": 7}
    return ReportConfig(**(values | overrides))  # type: ignore[arg-type]


def test_latest_slot_and_period_in_the_report_zone() -> None:
    now = datetime(2026, 3, 30, 6, 30, tzinfo=UTC)  # Monday 08:30 CEST (after the DST change)
    slot = scheduled.latest_slot(weekly(), now)
    assert slot == (datetime(2026, 3, 30, 6, 0, tzinfo=UTC), "2026-03-30T08:00")
    start, end = scheduled.period(weekly(), slot[0])
    assert (start, end) == (datetime(2026, 3, 22, 23, 0, tzinfo=UTC),
                            datetime(2026, 3, 29, 22, 0, tzinfo=UTC))


def test_an_old_slot_does_not_fire() -> None:
    assert scheduled.latest_slot(weekly(), datetime(2026, 4, 1, 12, 0, tzinfo=UTC)) is None


def test_fall_back_fold_has_one_key() -> None:
    report = weekly(cron="30 2 * * *")
    first = scheduled.latest_slot(report, datetime(2026, 10, 25, 0, 45, tzinfo=UTC))
    second = scheduled.latest_slot(report, datetime(2026, 10, 25, 1, 45, tzinfo=UTC))
    assert first is not None and second is not None
    assert first[1] == second[1] == "2026-10-25T02:30"


@pytest.mark.parametrize(("field", "value"), [("cron", "every monday"), ("timezone", "Mars/Base"),
                                              ("recipients", [])])
def test_report_config_is_checked(field: str, value: object) -> None:
    with pytest.raises(ValueError):
        weekly(**{field: value})
