"""CSS inlined into a template's source once per version, not per message.

``css_inline`` costs about half a millisecond per message. A template's
styles do not depend on the data in most order emails, so the flattened
template *source* is inlined once:

1. every Jinja construct becomes an inert alphanumeric token; statements
   (and comments) that sit in element content become ``<!--token-->`` so the
   HTML parser keeps them in place (no foster-parenting out of tables);
2. the document is inlined with ``css_inline`` (remote stylesheets never
   loaded);
3. every token is put back, and the result is compiled as the template.

The result equals per-message inlining only when the styles cannot depend
on what the data changes. :func:`inline_source` proves what it can and
raises :class:`~tidings.render.constructs.Unsupported` otherwise (the caller
then inlines each rendered message):

* a token lost, duplicated or reordered by the round trip;
* a control block whose start and end sit at different places in the HTML
  tree (e.g. ``{% for %}`` rows in a ``<table>`` without an explicit
  ``<tbody>``), or a statement inside a tag, a ``<title>`` or a ``<style>``;
* a dynamic ``class``/``id``/attribute that a selector can look at;
* structural selectors (``:nth-child``, ``:first-child``, ``+``, ``~``,
  ``:empty``, ``:has``) when control flow changes the element structure;
* an expression inside ``<style>`` anywhere but a declaration value
  (``color: {{ brand.color }}`` is fine: it is carried into each matching
  element's ``style`` attribute).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import css_inline
import jinja2

from tidings.render import constructs
from tidings.render.constructs import Construct, Unsupported

__all__ = ["inline_source", "make_inliner"]

_OPENERS = frozenset({"for", "if", "with"})
_MIDDLES = frozenset({"elif", "else"})
_CLOSERS = {"endfor": "for", "endif": "if", "endwith": "with"}
_RAW_TEXT = frozenset({"style", "script"})
_RCDATA = frozenset({"title", "textarea"})
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                   "meta", "source", "track", "wbr"})
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_SELECTOR = re.compile(r"([^{};]+)\{")
_STRUCTURAL = re.compile(r":(?:nth-|first-|last-|only-|empty|has\()|[+~]")
_ATTR_SELECTOR = re.compile(r"\[\s*([\w-]+)")


def make_inliner() -> css_inline.CSSInliner:
    """The inliner both paths use: never fetches remote stylesheets."""
    return css_inline.CSSInliner(load_remote_stylesheets=False)


@dataclass(slots=True)
class _Seen:
    """Where a token was found: context and the tree signature for balance."""

    context: str  # text, comment, attr, style, style-attr, bad
    signature: tuple[object, ...] = ()
    attr: str = ""


@dataclass(slots=True)
class _Tokens:
    prefix: str
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        self.pattern = re.compile(rf"{self.prefix}(\d+)q")

    def token(self, index: int) -> str:
        return f"{self.prefix}{index}q"


class _Finder(HTMLParser):
    """Records the context of every token in a (tokenised) HTML document."""

    def __init__(self, tokens: _Tokens) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens = tokens
        self.seen: dict[int, list[_Seen]] = {}
        self.stack: list[str] = []
        self.elements = 0
        self.css: list[str] = []
        self.dynamic_attrs: set[str] = set()

    def _note(self, text: str, seen: _Seen) -> None:
        for match in self.tokens.pattern.finditer(text):
            self.seen.setdefault(int(match.group(1)), []).append(seen)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements += 1
        self._note(tag, _Seen("bad"))
        for name, value in attrs:
            self._note(name, _Seen("bad"))
            if value and self.tokens.pattern.search(value):
                kind = "style-attr" if name == "style" else "attr"
                self.dynamic_attrs.add(name)
                self._note(value, _Seen(kind, ("attr", self.elements, name), name))
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        top = self.stack[-1] if self.stack else ""
        if top == "style":
            self.css.append(data)
            for match in self.tokens.pattern.finditer(data):
                ok = _in_declaration_value(data, match.start())
                seen = _Seen("style" if ok else "bad")
                self.seen.setdefault(int(match.group(1)), []).append(seen)
            return
        kind = "bad" if top == "script" else ("rcdata" if top in _RCDATA else "text")
        self._note(data, _Seen(kind, ("text", tuple(self.stack))))

    def handle_comment(self, data: str) -> None:
        self._note(data, _Seen("comment", ("text", tuple(self.stack))))

    def handle_decl(self, decl: str) -> None:
        self._note(decl, _Seen("bad"))

    def handle_pi(self, data: str) -> None:
        self._note(data, _Seen("bad"))

    def unknown_decl(self, data: str) -> None:
        self._note(data, _Seen("bad"))


def _in_declaration_value(css: str, at: int) -> bool:
    before = _CSS_COMMENT.sub("", css[:at])
    depth = before.count("{") - before.count("}")
    last = max(before.rfind("{"), before.rfind("}"), before.rfind(";"))
    if depth < 1 or last < 0 or before[last] == "}":
        return False
    declaration = before[last + 1:]
    return ":" in declaration and not declaration.lstrip().startswith("@")


def _find(document: str, tokens: _Tokens) -> _Finder:
    finder = _Finder(tokens)
    finder.feed(document)
    finder.close()
    return finder


def _prefix(source: str) -> str:
    lowered = source.lower()
    for n in range(100):
        prefix = f"xtdz{n}k"
        if prefix not in lowered:
            return prefix
    raise Unsupported("no free placeholder prefix")


def _selectors(css: str) -> list[str]:
    text = _CSS_COMMENT.sub("", css)
    return [s.strip() for s in _SELECTOR.findall(text) if not s.strip().startswith("@")]


def _check_contexts(items: list[Construct], found: _Finder) -> None:
    for index, item in enumerate(items):
        seen = found.seen.get(index, [])
        if len(seen) != 1:
            raise Unsupported(f"construct {item.text!r} not found once in the HTML")
        context = seen[0].context
        if context == "bad":
            raise Unsupported(f"construct {item.text!r} in a tag name, attribute name, "
                              "script or CSS selector")
        if item.kind != "var" and context in {"style", "rcdata"}:
            raise Unsupported(f"statement {item.text!r} inside <style> or <title>")


def _check_css(items: list[Construct], found: _Finder) -> None:
    selectors = _selectors("".join(found.css))
    joined = " ".join(selectors)
    dynamic = found.dynamic_attrs - {"style"}
    if "class" in dynamic and "." in joined:
        raise Unsupported("a dynamic class attribute and class selectors")
    if "id" in dynamic and "#" in joined:
        raise Unsupported("a dynamic id attribute and id selectors")
    if dynamic & set(_ATTR_SELECTOR.findall(joined)):
        raise Unsupported("a dynamic attribute that an attribute selector reads")
    has_flow = any(item.kind == "stmt" for item in items)
    if has_flow and any(_STRUCTURAL.search(s) for s in selectors):
        raise Unsupported("structural selectors with control flow")


def _protected(source: str, items: list[Construct], tokens: _Tokens,
               found: _Finder) -> str:
    out: list[str] = []
    pos = 0
    for index, item in enumerate(items):
        out.append(source[pos:item.start])
        token = tokens.token(index)
        wrap = item.kind != "var" and found.seen[index][0].context == "text"
        out.append(f"<!--{token}-->" if wrap else token)
        pos = item.end
    out.append(source[pos:])
    return "".join(out)


def _check_result(items: list[Construct], tokens: _Tokens, inlined: str,
                  before: _Finder) -> None:
    after = _find(inlined, tokens)
    order: list[int] = []
    for index, item in enumerate(items):
        seen = after.seen.get(index, [])
        if before.seen[index][0].context == "style":
            if any(s.context != "style-attr" for s in seen):
                raise Unsupported(f"{item.text!r} from <style> left a style attribute")
            continue
        if len(seen) != 1:
            raise Unsupported(f"{item.text!r} did not survive inlining once")
        order.append(index)
    positions = [inlined.find(tokens.token(i)) for i in order]
    if positions != sorted(positions):
        raise Unsupported("inlining moved a construct (foster-parenting?)")
    _check_balance(items, after)


def _check_balance(items: list[Construct], after: _Finder) -> None:
    open_blocks: list[tuple[str, tuple[object, ...]]] = []
    for index, item in enumerate(items):
        if item.kind != "stmt" or index not in after.seen:
            continue
        where = after.seen[index][0].signature
        if item.keyword in _OPENERS:
            open_blocks.append((item.keyword, where))
        elif item.keyword in _MIDDLES or item.keyword in _CLOSERS:
            if not open_blocks or open_blocks[-1][1] != where:
                raise Unsupported(f"{item.text!r} sits elsewhere in the HTML tree "
                                  "than its block's start")
            if item.keyword in _CLOSERS:
                open_blocks.pop()


def _restore(inlined: str, items: list[Construct], tokens: _Tokens) -> str:
    pattern = re.compile(rf"<!--({tokens.prefix}\d+q)-->|{tokens.prefix}\d+q")

    def put_back(match: re.Match[str]) -> str:
        token = match.group(1) or match.group(0)
        return items[int(token[len(tokens.prefix):-1])].text

    return pattern.sub(put_back, inlined)


def inline_source(source: str, inliner: css_inline.CSSInliner,
                  env: jinja2.Environment) -> str:
    """``source`` (a flattened HTML template) with its CSS inlined; raises Unsupported."""
    items = constructs.scan(source, env)
    tokens = _Tokens(_prefix(source))
    tokenised = "".join(_token_pieces(source, items, tokens))
    found = _find(tokenised, tokens)
    _check_contexts(items, found)
    _check_css(items, found)
    inlined = inliner.inline(_protected(source, items, tokens, found))
    _check_result(items, tokens, inlined, found)
    return _restore(inlined, items, tokens)


def _token_pieces(source: str, items: list[Construct], tokens: _Tokens) -> list[str]:
    out: list[str] = []
    pos = 0
    for index, item in enumerate(items):
        out += [source[pos:item.start], tokens.token(index)]
        pos = item.end
    out.append(source[pos:])
    return out
