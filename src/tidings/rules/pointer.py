"""JSON pointers (RFC 6901) into event payloads."""

from __future__ import annotations

from typing import Any

__all__ = ["PointerError", "is_pointer", "resolve"]

_MISSING = object()


class PointerError(ValueError):
    """A pointer that is not of RFC 6901's form."""


def is_pointer(text: str) -> bool:
    return text == "" or text.startswith("/")


def _parts(pointer: str) -> list[str]:
    if not is_pointer(pointer):
        raise PointerError(f"{pointer!r} is not a JSON pointer (it must start with '/')")
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]


def resolve(document: Any, pointer: str, default: Any = None) -> Any:
    """The value at ``pointer``, or ``default`` when any step is missing."""
    node = document
    for part in _parts(pointer):
        if isinstance(node, dict):
            node = node.get(part, _MISSING)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return default
        if node is _MISSING:
            return default
    return node
