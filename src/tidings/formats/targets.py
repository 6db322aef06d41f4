"""Target paths: where a field's value goes in the event dict.

A target is a dotted path of names; a name followed by ``[]`` is a list::

    order.id                 event["order"]["id"] = value
    order.lines[].sku        event["order"]["lines"][-1]["sku"] = value
    order.lines[].serials[].no

Within one record, the *last* ``[]`` of the targets means "this record adds
a new element": every field of one ``LIN`` record lands in the same new dict
appended to ``order.lines``. Any earlier ``[]`` means "the newest element",
so a grandchild record (``SER`` under ``LIN``) writes into the line that
came just before it. All fields of one record that use ``[]`` must share the
same list (the same path up to the last ``[]``); the layout check enforces it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "NAME_PATTERN", "RecordWriter", "Step", "Target", "TargetError", "conflicts", "parse_target",
]

NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_-]*"
_STEP = re.compile(rf"({NAME_PATTERN})(\[\])?")


class TargetError(ValueError):
    """A target path that is not well formed, or cannot be written into an event."""


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    is_list: bool


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed target: ``head`` up to and including the last list step, then ``tail``."""

    text: str
    head: tuple[Step, ...]
    tail: tuple[str, ...]

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.head + tuple(Step(n, False) for n in self.tail)


def parse_target(text: str) -> Target:
    """Parse ``order.lines[].sku``; TargetError if it is not a dotted path of names."""
    steps = []
    for part in text.split("."):
        found = _STEP.fullmatch(part)
        if found is None:
            raise TargetError(f"{text!r}: {part!r} is not a name or name[]")
        steps.append(Step(found.group(1), found.group(2) is not None))
    if steps[-1].is_list:
        raise TargetError(f"{text!r} must end with a name, not a list")
    last_list = max((i for i, s in enumerate(steps) if s.is_list), default=-1)
    head = tuple(steps[: last_list + 1])
    return Target(text, head, tuple(s.name for s in steps[last_list + 1:]))


class RecordWriter:
    """Writes the values of one record into an event, following its fields' targets.

    Targets are grouped by the object they write into, so each object is
    found once per record however many fields it receives.
    """

    def __init__(self, targets: Mapping[str, Target]) -> None:
        heads = {t.head for t in targets.values() if t.head}
        if len(heads) > 1:
            raise TargetError("fields of one record add to different lists: "
                              + ", ".join(sorted(_text(h) for h in heads)))
        self._head: tuple[Step, ...] = heads.pop() if heads else ()
        self._plain = _grouped([(name, tuple(s.name for s in t.steps))
                                for name, t in targets.items() if not t.head])
        self._listed = _grouped([(name, t.tail) for name, t in targets.items() if t.head])

    def write(self, event: dict[str, Any], values: Mapping[str, Any]) -> None:
        """Put ``values`` (by field name) into ``event``; TargetError if a path is blocked."""
        _fill(event, self._plain, values)
        if self._head:
            element: dict[str, Any] = {}
            _list_at(_walk(event, self._head[:-1]), self._head[-1].name).append(element)
            _fill(element, self._listed, values)


Group = tuple[tuple[str, ...], tuple[tuple[str, str], ...]]


def _grouped(paths: list[tuple[str, tuple[str, ...]]]) -> list[Group]:
    """(field name, key path) pairs -> (parent path, ((key, field name), ...)) groups."""
    groups: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for name, path in paths:
        groups.setdefault(path[:-1], []).append((path[-1], name))
    return [(parent, tuple(keys)) for parent, keys in groups.items()]


def _fill(base: dict[str, Any], groups: list[Group], values: Mapping[str, Any]) -> None:
    # A value never lands on an object or list: the layout check (``conflicts``)
    # refuses any path used both ways, so no per-value type check is needed here.
    for parent, keys in groups:
        node = base
        for key in parent:
            node = _dict_at(node, key)
        for key, name in keys:
            node[key] = values.get(name)


def conflicts(targets: Iterable[Target]) -> list[str]:
    """Paths used both as a value and as a container, or as a list and as a dict."""
    kinds: dict[str, str] = {}
    found = []
    for target in targets:
        path = ""
        for i, step in enumerate(target.steps):
            path = f"{path}.{step.name}" if path else step.name
            kind = "list" if step.is_list else "value" if i == len(target.steps) - 1 else "dict"
            if kinds.setdefault(path, kind) != kind:
                found.append(f"{path!r} is used as a {kinds[path]} and as a {kind}")
    return sorted(set(found))


def _walk(event: dict[str, Any], steps: tuple[Step, ...]) -> dict[str, Any]:
    node = event
    for step in steps:
        if not step.is_list:
            node = _dict_at(node, step.name)
            continue
        items = _list_at(node, step.name)
        if not items or not isinstance(items[-1], dict):
            raise TargetError(f"no element of {step.name}[] to write into yet")
        node = items[-1]
    return node


def _dict_at(node: dict[str, Any], key: str) -> dict[str, Any]:
    child = node.setdefault(key, {})
    if not isinstance(child, dict):
        raise TargetError(f"{key!r} already holds a value, not an object")
    return child


def _list_at(node: dict[str, Any], key: str) -> list[Any]:
    child = node.setdefault(key, [])
    if not isinstance(child, list):
        raise TargetError(f"{key!r} already holds a value, not a list")
    return child


def _text(head: tuple[Step, ...]) -> str:
    return ".".join(s.name + ("[]" if s.is_list else "") for s in head)
