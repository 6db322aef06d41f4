"""Reading a layout dictionary from YAML, with the line of every problem.

The YAML is composed into nodes first, so each key path knows its line
(PyYAML node marks). pydantic validates the structure first (types, known
keys, per-field and per-record rules); once that is sound, the cross-key
checks of ``layout_checks`` run. Every problem of the failing stage is
reported at once in a ``LayoutError`` as (line, "key.path: message"),
sorted by line.
Only YAML's safe subset is accepted (no Python tags).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import yaml

from tidings.formats import errors, layout, layout_checks

__all__ = ["load_layout", "parse_layout"]

Marks = dict[tuple[str, ...], int]


def load_layout(path: str | Path) -> layout.Layout:
    """Read and check the layout file at ``path``; LayoutError lists every problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.LayoutError(source, [(None, f"cannot read the layout: {exc}")]) from exc
    return parse_layout(text, source)


def parse_layout(text: str, source: str = "<layout>") -> layout.Layout:
    """Check the YAML ``text`` of a layout and return it; LayoutError on any problem."""
    data, marks = _compose(text, source)
    try:
        parsed = layout.Layout.model_validate(data, context={layout.DEFER_CHECKS: True})
    except pydantic.ValidationError as exc:
        problems = [_pydantic_problem(e, marks) for e in exc.errors()]
        raise errors.LayoutError(source, _by_line(problems)) from exc
    found = layout_checks.problems(parsed)
    if found:
        problems = [_problem(path, msg, marks) for path, msg in found]
        raise errors.LayoutError(source, _by_line(problems))
    return parsed


def _by_line(problems: list[tuple[int | None, str]]) -> list[tuple[int | None, str]]:
    return sorted(problems, key=lambda p: (p[0] or 0, p[1]))


def _compose(text: str, source: str) -> tuple[Any, Marks]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise errors.LayoutError(source, [(None, "the layout file is empty")])
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise errors.LayoutError(source, [(line, f"not valid YAML: {exc.problem}")]) from exc
    except yaml.YAMLError as exc:
        raise errors.LayoutError(source, [(None, f"not valid YAML: {exc}")]) from exc
    finally:
        loader.dispose()
    marks: Marks = {}
    _collect_marks(node, (), marks)
    return data, marks


def _collect_marks(node: yaml.Node, path: tuple[str, ...], marks: Marks) -> None:
    marks[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            _collect_marks(value, child, marks)
            marks[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_marks(item, (*path, str(index)), marks)


def _pydantic_problem(err: Any, marks: Marks) -> tuple[int | None, str]:
    loc = tuple(part for part in err["loc"] if part != "[key]")
    return _problem(loc, str(err["msg"]).removeprefix("Value error, "), marks)


def _problem(path: tuple[str | int, ...], message: str,
             marks: Marks) -> tuple[int | None, str]:
    keys = tuple(str(p) for p in path)
    line = None
    for end in range(len(keys), -1, -1):
        if keys[:end] in marks:
            line = marks[keys[:end]]
            break
    where = ".".join(keys)
    return line, f"{where}: {message}" if where else message
