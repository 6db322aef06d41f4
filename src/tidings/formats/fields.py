"""Turning the text of one field into its typed value, by the field's layout.

``converter(spec)`` builds, once per field, a function ``text -> value``:

1. strip blanks (unless ``strip: false``); empty text is ``None``, or a
   ``missing_field`` problem when the field is ``required``;
2. check ``allowed`` on the stripped text (``bad_value``);
3. convert by type: ``string`` as is; ``integer`` (``+12``, ``0005``);
   ``decimal`` to ``Decimal``, divided by 10**scale for implied decimals
   (``0001250`` with scale 2 is ``12.50``); ``date`` by the strptime format to
   ``datetime.date``; ``boolean`` by ``true_values``/``false_values``, compared
   without case. A conversion failure is ``bad_value``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from tidings.formats import errors, layout

__all__ = ["Converter", "FieldProblem", "converter"]

Converter = Callable[[str], Any]
R = errors.ReasonCode


class FieldProblem(ValueError):
    """The text of one field is missing or does not fit its type."""

    def __init__(self, reason: errors.ReasonCode, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def converter(spec: layout.FieldSpec) -> Converter:
    """Build the text -> value function of ``spec`` (see the module doc)."""
    parse = _parser(spec)
    allowed = frozenset(spec.allowed) if spec.allowed is not None else None
    strip, required = spec.strip, spec.required

    def convert(text: str) -> Any:
        value = text.strip() if strip else text
        if not (value if strip else value.strip()):
            if required:
                raise FieldProblem(R.MISSING_FIELD, "is required but empty")
            return None
        if allowed is not None and value not in allowed:
            raise FieldProblem(R.BAD_VALUE,
                               f"{value!r} is not one of {', '.join(sorted(allowed))}")
        return parse(value)

    return convert


def _parser(spec: layout.FieldSpec) -> Converter:
    if spec.type == "integer":
        return _integer
    if spec.type == "decimal":
        return _decimal(spec.scale)
    if spec.type == "date":
        return _date(spec.format or "")
    if spec.type == "boolean":
        return _boolean(spec.true_values, spec.false_values)
    return str


def _integer(text: str) -> int:
    digits = text.strip()
    if not digits.lstrip("+-").isdigit() or not digits.isascii():
        raise FieldProblem(R.BAD_VALUE, f"{text!r} is not an integer")
    return int(digits)


def _decimal(scale: int) -> Converter:
    shift = Decimal(1).scaleb(-scale)

    def parse(text: str) -> Decimal:
        try:
            value = Decimal(text.strip())
        except InvalidOperation as exc:
            raise FieldProblem(R.BAD_VALUE, f"{text!r} is not a decimal number") from exc
        if not value.is_finite():
            raise FieldProblem(R.BAD_VALUE, f"{text!r} is not a finite number")
        return value * shift if scale else value

    return parse


def _date(fmt: str) -> Converter:
    fast = _fixed_date(fmt)

    def parse(text: str) -> dt.date:
        if fast is not None:
            found = fast(text)
            if found is not None:
                return found
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError as exc:
            raise FieldProblem(R.BAD_VALUE, f"{text!r} is not a date like {fmt!r}") from exc

    return parse


_DATE_PARTS = {"%Y": 4, "%y": 2, "%m": 2, "%d": 2}


def _fixed_date(fmt: str) -> Callable[[str], dt.date | None] | None:
    """A slicing parser for zero-padded numeric formats (``%Y%m%d``, ``%d.%m.%Y``).

    It answers only when the text has exactly the padded shape, where its result
    equals strptime's; otherwise it returns None and strptime decides.
    """
    slices: dict[str, slice] = {}
    literals: list[tuple[int, str]] = []
    position, rest = 0, fmt
    while rest:
        part = rest[:2]
        if part in _DATE_PARTS and part not in slices:
            slices[part] = slice(position, position + _DATE_PARTS[part])
            position, rest = position + _DATE_PARTS[part], rest[2:]
        elif rest[0] != "%":
            literals.append((position, rest[0]))
            position, rest = position + 1, rest[1:]
        else:
            return None
    if "%m" not in slices or "%d" not in slices or ("%Y" in slices) == ("%y" in slices):
        return None
    return _slicer(slices, literals, position)


def _slicer(slices: dict[str, slice], literals: list[tuple[int, str]],
            length: int) -> Callable[[str], dt.date | None]:
    year = slices.get("%Y") or slices["%y"]
    century = 0 if "%Y" in slices else None
    month, day = slices["%m"], slices["%d"]

    def parse(text: str) -> dt.date | None:
        if len(text) != length or any(text[i] != ch for i, ch in literals):
            return None
        digits = (text[year], text[month], text[day])
        if not all(d.isdigit() and d.isascii() for d in digits):
            return None
        y = int(digits[0])
        if century is None:
            y += 2000 if y < 69 else 1900  # strptime's %y pivot
        try:
            return dt.date(y, int(digits[1]), int(digits[2]))
        except ValueError:
            return None

    return parse


def _boolean(true_values: tuple[str, ...], false_values: tuple[str, ...]) -> Converter:
    trues = {v.casefold() for v in true_values}
    falses = {v.casefold() for v in false_values}

    def parse(text: str) -> bool:
        folded = text.casefold()
        if folded in trues:
            return True
        if folded in falses:
            return False
        raise FieldProblem(R.BAD_VALUE, f"{text!r} is not one of the true or false values")

    return parse
