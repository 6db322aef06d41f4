"""Find the line of ``tidings.toml`` that a validation error points at.

``tomllib`` keeps no positions, so this scans the text: table headers
(``[x]``, ``[[x]]``) and ``key =`` lines. It handles the shapes a project file
uses (top-level tables, arrays of tables, dotted keys inside them); for
anything else it falls back to the nearest enclosing table's header.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["locate"]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\"-]+)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


def locate(text: str, loc: Sequence[str | int]) -> int | None:
    """1-based line of the element at ``loc`` (pydantic's error location)."""
    if not loc:
        return None
    lines = text.splitlines()
    table_start, table_end = _table_span(lines, loc)
    if table_start is None:
        return _top_level_key(lines, str(loc[0]))
    rest = [str(part) for part in loc[2:]] if len(loc) > 1 and isinstance(loc[1], int) \
        else [str(part) for part in loc[1:]]
    if rest:
        for number in range(table_start + 1, table_end):
            match = _KEY.match(lines[number])
            if match and match.group(1) == rest[0]:
                return number + 1
    return table_start + 1


def _table_span(lines: list[str], loc: Sequence[str | int]) -> tuple[int | None, int]:
    name, index = str(loc[0]), loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
    seen, start = -1, None
    for number, line in enumerate(lines):
        match = _HEADER.match(line)
        if not match:
            continue
        if start is not None:
            return start, number
        if match.group(2) != name:
            continue
        seen += 1
        if index is None or seen == index:
            start = number
    return start, len(lines)


def _top_level_key(lines: list[str], key: str) -> int | None:
    for number, line in enumerate(lines):
        if _HEADER.match(line):
            return None
        match = _KEY.match(line)
        if match and match.group(1) == key:
            return number + 1
    return None
