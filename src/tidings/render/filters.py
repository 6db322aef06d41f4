"""Locale-aware template filters: ``money``, ``date`` and ``datetime`` (Babel).

The locale of a filter call is, in order: its ``locale`` argument, the locale
of the render in progress (set by the template store with
:func:`using_locale`), then ``en``. Values may be ``str``, ``Decimal``,
``float`` or ``int`` for money and ISO-8601 strings, ``date`` or
``datetime`` for dates; a naive datetime is taken as UTC.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

import babel
from babel import dates as babel_dates
from babel import numbers as babel_numbers

__all__ = ["FILTERS", "date", "datetime", "money", "resolve_locale", "using_locale"]

DEFAULT_LOCALE = "en"
MONEY_CACHE_ENTRIES = 16_384
_RENDER_LOCALE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "tidings_render_locale", default=None)


@contextmanager
def using_locale(locale: str | None) -> Iterator[None]:
    """Make ``locale`` the default of the filters while a render runs."""
    token = _RENDER_LOCALE.set(locale)
    try:
        yield
    finally:
        _RENDER_LOCALE.reset(token)


@functools.lru_cache(maxsize=256)
def resolve_locale(tag: str) -> babel.Locale:
    """Babel's locale for a tag like ``de-AT``/``de_AT``, narrowing to the
    language and then to English when Babel does not know it."""
    cleaned = tag.replace("-", "_")
    for candidate in (cleaned, cleaned.split("_")[0], DEFAULT_LOCALE):
        try:
            return babel.Locale.parse(candidate)
        except (ValueError, babel.UnknownLocaleError):
            continue
    raise ValueError(f"no usable locale for {tag!r}")  # pragma: no cover - "en" exists


def _locale(locale: str | None) -> babel.Locale:
    return resolve_locale(locale or _RENDER_LOCALE.get() or DEFAULT_LOCALE)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    try:
        if isinstance(value, float):
            amount = Decimal(repr(value))
        else:
            amount = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount


def money(value: Any, currency: str, locale: str | None = None) -> str:
    """``12.5, "EUR", "de-DE"`` -> ``12,50 €``.

    Rounds to the currency's digits the CLDR way (half-even), as Babel does.
    """
    return _money(_decimal(value), currency.upper(), _locale(locale))


# Babel's format_currency costs 60-130 us a call; catalogue prices repeat a lot.
@functools.lru_cache(maxsize=MONEY_CACHE_ENTRIES)
def _money(amount: Decimal, currency: str, locale: babel.Locale) -> str:
    return str(babel_numbers.format_currency(amount, currency, locale=locale))


def _zone(tz: str | dt.tzinfo | None) -> dt.tzinfo:
    if tz is None:
        return dt.UTC
    if isinstance(tz, dt.tzinfo):
        return tz
    try:
        return zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone: {tz!r}") from exc


def _moment(value: Any) -> dt.datetime | dt.date:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text) if len(text) == 10 \
                else dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"not an ISO-8601 date: {value!r}") from exc
    raise ValueError(f"not a date: {value!r}")


def _aware(moment: dt.datetime, tz: str | dt.tzinfo | None) -> dt.datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(_zone(tz))


def date(value: Any, format: str = "medium", locale: str | None = None,
         tz: str | dt.tzinfo | None = None) -> str:
    """A calendar date: ``"2026-03-27T22:30:00Z", tz="Europe/Berlin"`` -> the 27th or 28th
    as the zone sees it; ``format`` is short/medium/long/full or a CLDR pattern."""
    moment = _moment(value)
    if isinstance(moment, dt.datetime):
        moment = _aware(moment, tz).date()
    return str(babel_dates.format_date(moment, format=format, locale=_locale(locale)))


def datetime(value: Any, format: str = "medium", locale: str | None = None,
             tz: str | dt.tzinfo | None = None) -> str:
    """A moment shown in ``tz`` (UTC by default); a bare date means its midnight UTC."""
    moment = _moment(value)
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time(), tzinfo=dt.UTC)
    zone = _zone(tz)
    return str(babel_dates.format_datetime(_aware(moment, zone), format=format, tzinfo=zone,
                                           locale=_locale(locale)))


FILTERS: dict[str, Callable[..., str]] = {"money": money, "date": date, "datetime": datetime}
