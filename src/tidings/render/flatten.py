"""One self-contained source for a template: extends, blocks and includes resolved.

CSS can only be inlined once per template version if the inliner sees the
whole document: the layout's ``<style>`` and ``<table>`` around the body's
rows and the partials' cells. :func:`flatten` produces that document as
Jinja source text:

* ``{% extends "x" %}`` chains: the root layout's source, each block replaced
  by its most derived definition, ``{{ super() }}`` by the parent's; block
  tags are dropped, their whitespace control (``{%- ... -%}``) applied;
  a child's top-level ``{% set %}`` statements are kept, in front;
* ``{% include "x" %}`` with a constant name: the partial's flattened source
  in place (inside ``{% with %}`` when it sets variables, as include scoping
  would).

Anything whose output cannot be known from the source alone raises
:class:`~tidings.render.constructs.Unsupported` with the reason (macros,
imports, ``call``/``filter`` blocks, ``|safe``, ``self``, dynamic names,
block-form ``set``, ``autoescape`` and ``raw``); the caller then inlines per
message instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import jinja2

from tidings.render import constructs
from tidings.render.constructs import Construct, Unsupported

__all__ = ["Flattened", "flatten"]

MAX_DEPTH = 12
_FORBIDDEN = frozenset({"import", "from", "macro", "call", "filter", "autoescape", "raw",
                        "endset"})
_DYNAMIC = re.compile(r"\bself\b|\bcaller\b|\bsuper\b|\|\s*safe\b|\bMarkup\b")
_SUPER = re.compile(r"\{\{\s*super\(\)\s*\}\}")
_NAMED = re.compile(r"\{%[-+]?\s*(?:extends|include)\s+(\"[^\"\\]*\"|'[^'\\]*')\s*[-+]?%\}")
_BLOCK = re.compile(r"\{%[-+]?\s*block\s+(\w+)(?:\s+(?:scoped|required))*\s*[-+]?%\}")
_SET_INLINE = re.compile(r"\{%[-+]?\s*set\s+[\w.,\s()]+=")


@dataclass(frozen=True, slots=True)
class Flattened:
    """The flattened source and the template names it was made from."""

    source: str
    used: tuple[str, ...]


@dataclass(slots=True)
class _Block:
    name: str
    open: Construct
    close: Construct


@dataclass(slots=True)
class _Level:
    name: str
    source: str
    items: list[Construct]
    blocks: dict[str, _Block] = field(default_factory=dict)
    by_start: dict[int, _Block] = field(default_factory=dict)
    index: dict[int, int] = field(default_factory=dict)


def flatten(name: str, get_source: Callable[[str], str], env: jinja2.Environment) -> Flattened:
    """The self-contained source of template ``name``; raises Unsupported."""
    used: list[str] = []
    source = _Flattener(get_source, env, used).template(name, 0)
    return Flattened(source, tuple(dict.fromkeys(used)))


def _piece(text: str, lstrip: bool, rstrip: bool) -> str:
    if lstrip:
        text = text.lstrip()
    if rstrip:
        text = text.rstrip()
    return text


def _quoted_name(construct: Construct) -> str:
    match = _NAMED.fullmatch(construct.text)
    if match is None:
        raise Unsupported(f"dynamic or modified {construct.keyword}: {construct.text}")
    return match.group(1)[1:-1]


class _Flattener:
    def __init__(self, get_source: Callable[[str], str], env: jinja2.Environment,
                 used: list[str]) -> None:
        self._get_source = get_source
        self._env = env
        self._used = used

    def template(self, name: str, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise Unsupported("includes or extends nested too deep")
        chain = self._chain(name, depth)
        prelude = "".join(self._prelude(level) for level in chain[:-1])
        root = chain[-1]
        body = self._expand(chain, len(chain) - 1, 0, len(root.source), None)
        return self._includes(prelude + body, depth)

    def _load(self, name: str) -> _Level:
        source = self._get_source(name)
        self._used.append(name)
        items = constructs.scan(source, self._env)
        level = _Level(name, source, items, index={c.start: i for i, c in enumerate(items)})
        for item in items:
            self._check(name, item)
        self._find_blocks(level)
        return level

    def _check(self, name: str, item: Construct) -> None:
        if item.keyword in _FORBIDDEN:
            raise Unsupported(f"{name}: {{% {item.keyword} %}} is not flattened")
        if item.keyword == "set" and not _SET_INLINE.match(item.text):
            raise Unsupported(f"{name}: block-form {{% set %}} is not flattened")
        if item.kind != "comment" and _DYNAMIC.search(item.text) \
                and not _SUPER.fullmatch(item.text):
            raise Unsupported(f"{name}: markup made at render time: {item.text}")

    def _find_blocks(self, level: _Level) -> None:
        stack: list[tuple[str, Construct]] = []
        for item in level.items:
            if item.keyword == "block":
                match = _BLOCK.fullmatch(item.text)
                if match is None:
                    raise Unsupported(f"{level.name}: unusual block tag {item.text}")
                stack.append((match.group(1), item))
            elif item.keyword == "endblock":
                if not stack:
                    raise Unsupported(f"{level.name}: endblock without block")
                block_name, opener = stack.pop()
                if block_name in level.blocks:
                    raise Unsupported(f"{level.name}: block {block_name} defined twice")
                block = _Block(block_name, opener, item)
                level.blocks[block_name] = block
                level.by_start[opener.start] = block
        if stack:
            raise Unsupported(f"{level.name}: unclosed block")

    def _chain(self, name: str, depth: int) -> list[_Level]:
        chain = [self._load(name)]
        while (parent := self._parent(chain[-1])) is not None:
            if len(chain) > MAX_DEPTH:
                raise Unsupported("extends chain too long")
            chain.append(self._load(parent))
        return chain

    def _parent(self, level: _Level) -> str | None:
        extends = [c for c in level.items if c.keyword == "extends"]
        if not extends:
            return None
        first = next(c for c in level.items if c.kind != "comment")
        if len(extends) > 1 or first is not extends[0] \
                or level.source[:first.start].strip():
            raise Unsupported(f"{level.name}: extends must come first")
        return _quoted_name(first)

    def _prelude(self, level: _Level) -> str:
        """The top-level statements of a child template (outside its blocks)."""
        kept: list[str] = []
        depth = 0
        for item in level.items:
            if item.keyword == "block":
                depth += 1
            elif item.keyword == "endblock":
                depth -= 1
            elif depth == 0 and item.keyword == "set":
                kept.append(item.text)
            elif depth == 0 and item.kind != "comment" and item.keyword != "extends":
                raise Unsupported(f"{level.name}: {item.text} outside blocks of a child")
        return "".join(kept)

    def _expand(self, chain: list[_Level], at: int, start: int, end: int,
                block: str | None) -> str:
        level = chain[at]
        out: list[str] = []
        pos, lstrip_next = start, False
        k = next((i for i, c in enumerate(level.items) if c.start >= start), len(level.items))
        while k < len(level.items) and level.items[k].start < end:
            item = level.items[k]
            if item.keyword == "block":
                found = level.by_start[item.start]
                out.append(_piece(level.source[pos:item.start], lstrip_next, item.strip_left))
                out.append(self._block_body(chain, found.name, 0))
                pos, lstrip_next = found.close.end, found.close.strip_right
                k = level.index[found.close.start] + 1
                continue
            if item.kind == "var" and _SUPER.fullmatch(item.text):
                if block is None:
                    raise Unsupported("super() outside a block")
                out.append(_piece(level.source[pos:item.start], lstrip_next, False))
                out.append(self._block_body(chain, block, at + 1))
                pos, lstrip_next = item.end, False
            k += 1
        out.append(_piece(level.source[pos:end], lstrip_next, False))
        return "".join(out)

    def _block_body(self, chain: list[_Level], name: str, from_level: int) -> str:
        """The most derived definition of block ``name`` at or above ``from_level``."""
        for at in range(from_level, len(chain)):
            found = chain[at].blocks.get(name)
            if found is not None:
                body = self._expand(chain, at, found.open.end, found.close.start, name)
                return _piece(body, found.open.strip_right, found.close.strip_left)
        raise Unsupported(f"super() of block {name} has no parent definition")

    def _includes(self, source: str, depth: int) -> str:
        out: list[str] = []
        pos, lstrip_next = 0, False
        for item in constructs.scan(source):
            if item.keyword != "include":
                continue
            partial = self.template(_quoted_name(item), depth + 1)
            if any(c.keyword == "set" for c in constructs.scan(partial)):
                partial = "{% with %}" + partial + "{% endwith %}"
            out.append(_piece(source[pos:item.start], lstrip_next, item.strip_left))
            out.append(partial)
            pos, lstrip_next = item.end, item.strip_right
        out.append(_piece(source[pos:], lstrip_next, False))
        return "".join(out)
