"""Where the Jinja constructs of a template source are, as character spans.

A small scanner (``{{ ... }}``, ``{% ... %}``, ``{# ... #}``, skipping string
literals and balanced braces inside) that the source-level tools need:
:mod:`tidings.render.flatten` and :mod:`tidings.render.inline`. Its count of
constructs is cross-checked against Jinja's own lexer; a disagreement means
"do not touch this source" (:class:`Unsupported`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import jinja2

__all__ = ["Construct", "Unsupported", "scan"]

_OPENERS = {"{{": ("var", "}}"), "{%": ("stmt", "%}"), "{#": ("comment", "#}")}
_OPEN = re.compile(r"\{[{%#]")
_KEYWORD = re.compile(r"\{%[-+]?\s*(\w+)")
_JINJA_BEGINS = frozenset({"variable_begin", "block_begin", "comment_begin"})


class Unsupported(Exception):
    """The source uses something the source-level tools do not handle."""


@dataclass(frozen=True, slots=True)
class Construct:
    """One ``{{ }}``, ``{% %}`` or ``{# #}`` at ``source[start:end]``."""

    kind: str  # "var", "stmt" or "comment"
    start: int
    end: int
    text: str
    keyword: str = ""  # first word of a statement: "for", "endif", "block", ...

    @property
    def strip_left(self) -> bool:
        return self.text[2:3] == "-"

    @property
    def strip_right(self) -> bool:
        return self.text[-3:-2] == "-"


def _end_of(source: str, start: int, closer: str) -> int:
    i, depth, size = start + 2, 0, len(source)
    while i < size:
        char = source[i]
        if char in "'\"":
            i = _skip_string(source, i)
            continue
        if depth == 0 and source.startswith(closer, i):
            return i + 2
        if char in "{([":
            depth += 1
        elif char in "})]" and depth:
            depth -= 1
        i += 1
    raise Unsupported(f"unterminated construct at offset {start}")


def _skip_string(source: str, i: int) -> int:
    quote, i = source[i], i + 1
    while i < len(source):
        if source[i] == "\\":
            i += 2
            continue
        if source[i] == quote:
            return i + 1
        i += 1
    raise Unsupported("unterminated string literal")


def _comment_end(source: str, start: int) -> int:
    end = source.find("#}", start + 2)
    if end < 0:
        raise Unsupported(f"unterminated comment at offset {start}")
    return end + 2


def scan(source: str, env: jinja2.Environment | None = None) -> list[Construct]:
    """All constructs of ``source`` in order; raw blocks are unsupported."""
    found: list[Construct] = []
    pos = 0
    while (match := _OPEN.search(source, pos)) is not None:
        start = match.start()
        kind, closer = _OPENERS[match.group()]
        end = _comment_end(source, start) if kind == "comment" else _end_of(source, start,
                                                                            closer)
        text = source[start:end]
        keyword = ""
        if kind == "stmt":
            word = _KEYWORD.match(text)
            keyword = word.group(1) if word else ""
            if keyword == "raw":
                raise Unsupported("{% raw %} blocks")
        found.append(Construct(kind, start, end, text, keyword))
        pos = end
    if env is not None:
        _cross_check(source, env, len(found))
    return found


def _cross_check(source: str, env: jinja2.Environment, count: int) -> None:
    try:
        jinja_count = sum(1 for _, kind, _ in env.lex(source) if kind in _JINJA_BEGINS)
    except jinja2.TemplateSyntaxError as exc:
        raise Unsupported(f"source does not lex: {exc}") from exc
    if jinja_count != count:
        raise Unsupported("construct scan disagrees with Jinja's lexer")
