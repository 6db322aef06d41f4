"""Checks of a layout dictionary that span several keys, each with its path.

``problems(layout)`` returns (path, message) pairs; the path is the key path
in the YAML document (``("records", "LIN", "fields", 2)``) so that the loader
can name the line. Rules:

- exactly one of `fields` (single record) and `records` (multi-record);
  `record_type` goes with `records`, and only there;
- fixed width fields and record type use `position` + `width` and no
  `column`; delimited ones use `column` and no `position`/`width`;
  `delimiter`, `quote` and `header` are for delimited files only;
- a column given by name needs `header: true` and a single-record layout;
- `encoding` is known and ASCII-compatible (lines are split on the byte ``\\n``);
- at least one `event` record, at most one `header` and one `trailer`;
  every `parent` is an `event` or `child` record, with no cycles;
  every code in a trailer's `counts` is a record of the layout;
- no target path is used both as a value and as an object or list.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import TYPE_CHECKING

from tidings.formats import targets

if TYPE_CHECKING:
    from tidings.formats import layout as layout_mod

__all__ = ["Path", "problems"]

Path = tuple[str | int, ...]
Problem = tuple[Path, str]


def problems(layout: layout_mod.Layout) -> list[Problem]:
    """Every cross-key problem of ``layout`` (empty when it is sound)."""
    found = list(_shape(layout)) + list(_encoding(layout))
    for path, field in _all_fields(layout):
        found.extend(_placement(layout, path, field.position, field.width, field.column))
    if layout.records is not None:
        found.extend(_roles(layout.records))
    found.extend(_target_conflicts(layout))
    return found


def _shape(layout: layout_mod.Layout) -> Iterator[Problem]:
    if (layout.fields is None) == (layout.records is None):
        yield (), "give either 'fields' (one record layout) or 'records' (multi-record)"
    if layout.records is not None and layout.record_type is None:
        yield ("records",), "a multi-record layout needs 'record_type'"
    if layout.records is None and layout.record_type is not None:
        yield ("record_type",), "'record_type' is only for a multi-record layout ('records')"
    if layout.record_type is not None:
        spec = layout.record_type
        yield from _placement(layout, ("record_type",), spec.position, spec.width, spec.column)
    if layout.format == "fixed_width":
        for key in sorted({"delimiter", "quote", "header"} & layout.model_fields_set):
            yield (key,), f"{key!r} is only for delimited files"


def _encoding(layout: layout_mod.Layout) -> Iterator[Problem]:
    try:
        codecs.lookup(layout.encoding)
    except LookupError:
        yield ("encoding",), f"unknown encoding {layout.encoding!r}"
        return
    if "\nA,".encode(layout.encoding, errors="replace") != b"\nA,":
        yield ("encoding",), f"{layout.encoding!r} is not ASCII-compatible (UTF-16?)"


def _placement(layout: layout_mod.Layout, path: Path, position: int | None,
               width: int | None, column: int | str | None) -> Iterator[Problem]:
    if layout.format == "fixed_width":
        if position is None or width is None or column is not None:
            yield path, "fixed width needs 'position' and 'width', and no 'column'"
        return
    if column is None or position is not None or width is not None:
        yield path, "delimited needs 'column', and no 'position' or 'width'"
    elif isinstance(column, str) and (not layout.header or layout.records is not None):
        yield path, "a column name needs 'header: true' and a single-record layout"


def _roles(records: dict[str, layout_mod.RecordSpec]) -> Iterator[Problem]:
    roles = [spec.role for spec in records.values()]
    if "event" not in roles:
        yield ("records",), "at least one record needs role 'event'"
    for role in ("header", "trailer"):
        if roles.count(role) > 1:
            yield ("records",), f"at most one record may have role {role!r}"
    for code, spec in records.items():
        if spec.parent is not None:
            yield from _parent(records, code)
        if spec.counts != "all":
            for counted in spec.counts:
                if counted not in records:
                    yield ("records", code, "counts"), f"{counted!r} is not a record code"


def _parent(records: dict[str, layout_mod.RecordSpec], code: str) -> Iterator[Problem]:
    seen = {code}
    parent = records[code].parent
    while parent is not None:
        spec = records.get(parent)
        if spec is None or spec.role not in ("event", "child"):
            yield ("records", code, "parent"), f"{parent!r} is not an event or child record"
            return
        if parent in seen:
            yield ("records", code, "parent"), f"the parents of {code!r} form a cycle"
            return
        seen.add(parent)
        parent = spec.parent


def _target_conflicts(layout: layout_mod.Layout) -> Iterator[Problem]:
    paths = [f.target_path() for _, f in _all_fields(layout)]
    for message in targets.conflicts(paths):
        yield ("records" if layout.records is not None else "fields",), message


def _all_fields(layout: layout_mod.Layout) -> Iterator[tuple[Path, layout_mod.FieldSpec]]:
    for index, field in enumerate(layout.fields or ()):
        yield ("fields", index), field
    for code, spec in (layout.records or {}).items():
        for index, field in enumerate(spec.fields):
            yield ("records", code, "fields", index), field
