"""Money and dates, per locale, from the value types events carry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tidings.render import filters

NBSP = "\xa0"


@pytest.mark.parametrize(("value", "currency", "locale", "expected"), [
    ("12.5", "EUR", "de-DE", f"12,50{NBSP}€"),
    (Decimal("12.50"), "EUR", "de-AT", f"€{NBSP}12,50"),
    (12.5, "eur", "en", "€12.50"),
    (1234567, "USD", "en-US", "$1,234,567.00"),
    ("-3", "USD", "en_US", "-$3.00"),
    ("1234.6", "JPY", "ja", "￥1,235"),
    ("1234.5", "JPY", "ja", "￥1,234"),  # half-even, as CLDR and Babel round
    ("0.1", "CHF", "de-CH", f"CHF{NBSP}0.10"),
    (" 99.99 ", "GBP", "xx-YY", "£99.99"),  # unknown locale: English
])
def test_money(value: object, currency: str, locale: str, expected: str) -> None:
    assert filters.money(value, currency, locale) == expected


@pytest.mark.parametrize("value", ["abc", None, True, "NaN", float("inf"), [1]])
def test_money_refuses_non_amounts(value: object) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        filters.money(value, "EUR", "en")


def test_render_locale_is_the_default() -> None:
    with filters.using_locale("de-DE"):
        assert filters.money("1", "EUR") == f"1,00{NBSP}€"
        assert filters.money("1", "EUR", "en") == "€1.00"
    assert filters.money("1", "EUR") == "€1.00"


@pytest.mark.parametrize(("value", "kwargs", "expected"), [
    ("2026-03-27", {"locale": "en"}, "Mar 27, 2026"),
    ("2026-03-27", {"locale": "de", "format": "long"}, "27. März 2026"),
    (dt.date(2026, 3, 27), {"locale": "fr", "format": "full"}, "vendredi 27 mars 2026"),
    ("2026-03-27T23:30:00Z", {"locale": "en"}, "Mar 27, 2026"),
    ("2026-03-27T23:30:00Z", {"locale": "en", "tz": "Europe/Berlin"}, "Mar 28, 2026"),
    ("2026-03-27T23:30:00", {"locale": "en", "tz": "Europe/Berlin"}, "Mar 28, 2026"),
    ("2026-03-27", {"locale": "en", "format": "yyyy/MM/dd"}, "2026/03/27"),
])
def test_date(value: object, kwargs: dict[str, str], expected: str) -> None:
    assert filters.date(value, **kwargs) == expected


def test_datetime_in_a_zone_across_the_clock_change() -> None:
    winter = filters.datetime("2026-03-29T00:30:00Z", "short", "en-GB", "Europe/Berlin")
    summer = filters.datetime("2026-03-29T01:30:00Z", "short", "en-GB", "Europe/Berlin")
    assert (winter, summer) == ("29/03/2026, 01:30", "29/03/2026, 03:30")
    assert filters.datetime(dt.date(2026, 1, 2), "short", "en-GB") == "02/01/2026, 00:00"


@pytest.mark.parametrize(("value", "tz"), [("not a date", None), (42, None),
                                          ("2026-03-27", "Mars/Olympus")])
def test_date_refuses_garbage(value: object, tz: str | None) -> None:
    with pytest.raises(ValueError):
        filters.datetime(value, tz=tz)
