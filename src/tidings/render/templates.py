"""The template store: a project's ``templates/`` folder, rendered per message.

Layout (fixed)::

    templates/
      layouts/base.html            shared layouts ({% extends %})
      partials/*.html              shared pieces ({% include %})
      <name>/subject.txt           default locale
      <name>/body.html
      <name>/body.txt              optional: derived from the HTML when absent
      <name>/<locale>/subject.txt  overrides, e.g. de, de-AT, fr

Each part is looked up along the locale chain ``de-AT -> de -> default``, so a
locale folder may override only some parts. ``Rendered.locale`` is the most
specific locale whose folder supplied a part; money and dates are formatted
in the requested locale when it is of the same language (``de-AT`` numbers
in a ``de`` text), else in the text's locale.

Compiled templates are cached per *version*, a hash of every source used
(parts, layouts, partials), which the outbox records. A changed file is
seen on the next use (modification times are checked at most once per
second) or at :meth:`TemplateStore.reload`.

CSS is inlined once per version (:mod:`tidings.render.inline`) when the
template allows it; otherwise each rendered HTML is inlined, and
``CompiledMessage.inline_reason`` says why.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import inscriptis
import jinja2
import jinja2.meta

from tidings.render import budget, errors, filters, flatten, inline, sandbox
from tidings.render.constructs import Unsupported

__all__ = ["CompiledMessage", "Problem", "Rendered", "TemplateStore"]

SUBJECT_FILE = "subject.txt"
HTML_FILE = "body.html"
TEXT_FILE = "body.txt"
PART_FILES = (SUBJECT_FILE, HTML_FILE, TEXT_FILE)
SHARED_FOLDERS = ("layouts", "partials")
RESCAN_SECONDS = 1.0
VERSION_CHARS = 16
_INLINED_PREFIX = "__inlined__"


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message's parts, ready for the outbox."""

    subject: str
    html: str | None
    text: str
    locale: str
    version: str


@dataclass(frozen=True, slots=True)
class Problem:
    """Something ``check()`` found; ``file`` is relative to the templates root."""

    file: str
    line: int | None
    message: str


@dataclass(frozen=True, slots=True)
class CompiledMessage:
    """The compiled parts of one template name in one locale, for one version."""

    name: str
    locale: str
    version: str
    subject: jinja2.Template
    html: jinja2.Template | None
    text: jinja2.Template | None
    html_original: jinja2.Template | None
    inline_reason: str | None  # None: CSS was inlined once into ``html``

    @property
    def inlined_once(self) -> bool:
        return self.html is not None and self.inline_reason is None


def canonical_locale(tag: str) -> str:
    """``de_at`` / ``DE-at`` -> ``de-AT``; a script subtag keeps title case."""
    parts = tag.replace("_", "-").split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        out.append(part.upper() if len(part) <= 3 else part.title())
    return "-".join(p for p in out if p)


def _chain(locale: str | None, default: str) -> list[str]:
    chain: list[str] = []
    if locale:
        parts = canonical_locale(locale).split("-")
        chain = ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]
    if default not in chain:
        chain.append(default)
    return chain


class _Loader(jinja2.FileSystemLoader):
    """Files under the root plus the inlined sources made at run time."""

    def __init__(self, root: Path) -> None:
        super().__init__(str(root), followlinks=False)
        self.virtual: dict[str, str] = {}

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        if template.startswith(_INLINED_PREFIX):
            source = self.virtual.get(template)
            if source is None:
                raise jinja2.TemplateNotFound(template)
            return source, template, lambda: True
        return super().get_source(environment, template)


class TemplateStore:
    """Renders named templates from a folder, per locale, under render limits."""

    def __init__(self, root: Path, default_locale: str = "en",
                 limits: budget.RenderLimits | None = None, *,
                 inline_css_once: bool = True, clock: budget.Clock = time.monotonic) -> None:
        self.root = Path(root)
        self.default_locale = canonical_locale(default_locale)
        self.limits = limits or budget.RenderLimits()
        self.inline_css_once = inline_css_once
        self._clock = clock
        self._loader = _Loader(self.root)
        self._env = sandbox.make_environment(self._loader, self.limits)
        self._inliner = inline.make_inliner()
        self._lock = threading.RLock()
        self._compiled: dict[str, CompiledMessage] = {}
        self._resolved: dict[tuple[str, str], tuple[str, dict[str, str], str]] = {}
        self._sources: dict[str, str] = {}
        self._snapshot = self._scan()
        self._checked_at = clock()

    # -- public API

    def names(self) -> list[str]:
        """Template names: folders holding a ``subject.txt`` (not layouts/partials)."""
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and p.name not in SHARED_FOLDERS
                      and not p.name.startswith((".", "_"))
                      and (p / SUBJECT_FILE).is_file())

    def render(self, name: str, data: Mapping[str, Any], locale: str | None) -> Rendered:
        """Render template ``name`` for ``data`` in ``locale`` (falls back to default).

        Raises :class:`~tidings.render.errors.RenderError` (or a subclass) naming the
        file relative to the root and the line when known.
        """
        try:
            return self._render(name, data, locale)
        except errors.RenderError as exc:
            exc.template = self._relative_name(exc.template)
            raise exc.located(exc.template, exc.line) from exc.__cause__

    def _relative_name(self, template: str | None) -> str | None:
        for root in (str(self.root), str(self.root.resolve())):
            if template and template.startswith(root + os.sep):
                return template[len(root) + 1:].replace(os.sep, "/")
        return template

    def _render(self, name: str, data: Mapping[str, Any], locale: str | None) -> Rendered:
        compiled = self.compiled(name, locale)
        fmt_locale = self._format_locale(locale, compiled.locale)
        with filters.using_locale(fmt_locale):
            html = self._render_html(compiled, data)
            if compiled.text is not None:
                text = sandbox.render(compiled.text, data, self.limits, self._clock)
            else:
                text = inscriptis.get_text(html or "")
            subject = sandbox.render(compiled.subject, data, self.limits, self._clock)
        return Rendered(" ".join(subject.split()), html, text, compiled.locale,
                        compiled.version)

    def compiled(self, name: str, locale: str | None) -> CompiledMessage:
        """The compiled parts of ``name`` for ``locale`` (cached per version)."""
        self._maybe_rescan()
        with self._lock:
            text_locale, parts, version = self._resolve(name, locale)
            found = self._compiled.get(f"{version}:{name}:{text_locale}")
            if found is None:
                found = self._compile(name, text_locale, parts, version)
                self._compiled[f"{version}:{name}:{text_locale}"] = found
            return found

    def reload(self) -> None:
        """Forget every cached source and compiled template."""
        with self._lock:
            if self._env.cache is not None:
                self._env.cache.clear()
            self._compiled.clear()
            self._resolved.clear()
            self._sources.clear()
            self._loader.virtual.clear()
            self._snapshot = self._scan()
            self._checked_at = self._clock()

    def check(self) -> list[Problem]:
        """Syntax errors, missing parts and unknown includes of every template file."""
        problems: list[Problem] = []
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and path.suffix in {".html", ".txt"}:
                problems.extend(self._check_file(path))
        for name in self._candidate_names():
            problems.extend(self._check_parts(name))
        return problems

    # -- resolution and versions

    def _format_locale(self, requested: str | None, text_locale: str) -> str:
        if requested and text_locale in _chain(requested, self.default_locale)[:-1]:
            return canonical_locale(requested)
        if requested and text_locale == self.default_locale \
                and canonical_locale(requested).split("-")[0] == text_locale.split("-")[0]:
            return canonical_locale(requested)
        return text_locale

    def _resolve(self, name: str, locale: str | None) -> tuple[str, dict[str, str], str]:
        key = (name, canonical_locale(locale) if locale else "")
        found = self._resolved.get(key)
        if found is None:
            found = self._resolve_files(name, locale)
            self._resolved[key] = found
        return found

    def _resolve_files(self, name: str, locale: str | None) -> tuple[str, dict[str, str], str]:
        if not _safe_name(name) or not (self.root / name).is_dir():
            raise errors.TemplateNotFound(f"no template named {name!r}", name)
        chain = _chain(locale, self.default_locale)
        folders = [(tag, f"{name}/{tag}") for tag in chain] + [(self.default_locale, name)]
        parts: dict[str, str] = {}
        text_locale = None
        for tag, folder in folders:
            for part in PART_FILES:
                if part not in parts and (self.root / folder / part).is_file():
                    parts[part] = f"{folder}/{part}"
                    text_locale = text_locale or tag
        if SUBJECT_FILE not in parts or not ({HTML_FILE, TEXT_FILE} & parts.keys()):
            raise errors.TemplateNotFound(f"{name}: needs {SUBJECT_FILE} and a body", name)
        return text_locale or self.default_locale, parts, self._version(parts.values())

    def _source(self, name: str) -> str:
        found = self._sources.get(name)
        if found is None:
            try:
                found = (self.root / name).read_text("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise errors.TemplateNotFound(f"cannot read {name}: {exc}", name) from exc
            self._sources[name] = found
        return found

    def _version(self, names: Any) -> str:
        used = sorted(self._closure(list(names)))
        digest = hashlib.sha256()
        for name in used:
            digest.update(name.encode() + b"\0" + self._source(name).encode() + b"\0")
        return digest.hexdigest()[:VERSION_CHARS]

    def _closure(self, names: list[str]) -> set[str]:
        """The names and every template they extend or include, transitively."""
        seen: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            try:
                refs = list(jinja2.meta.find_referenced_templates(
                    self._env.parse(self._source(name))))
            except jinja2.TemplateSyntaxError:
                continue  # compiling reports it with its line
            if None in refs:  # a dynamic name: any shared file may be used
                refs = [str(p.relative_to(self.root)) for folder in SHARED_FOLDERS
                        for p in (self.root / folder).rglob("*") if p.is_file()]
            todo.extend(r for r in refs if r is not None and (self.root / r).is_file())
        return seen

    # -- compiling

    def _get(self, name: str) -> jinja2.Template:
        try:
            return self._env.get_template(name)
        except jinja2.TemplateError as exc:
            raise sandbox.translate(exc) from exc

    def _compile(self, name: str, text_locale: str, parts: dict[str, str],
                 version: str) -> CompiledMessage:
        html_file = parts.get(HTML_FILE)
        original = self._get(html_file) if html_file else None
        html, reason = original, None
        if html_file and original is not None:
            html, reason = self._inline_once(html_file, version, original)
        text = self._get(parts[TEXT_FILE]) if TEXT_FILE in parts else None
        return CompiledMessage(name, text_locale, version, self._get(parts[SUBJECT_FILE]),
                               html, text, original, reason)

    def _inline_once(self, html_file: str, version: str,
                     original: jinja2.Template) -> tuple[jinja2.Template, str | None]:
        if not self.inline_css_once:
            return original, "inlining once is switched off"
        try:
            flat = flatten.flatten(html_file, self._source, self._env)
            source = inline.inline_source(flat.source, self._inliner, self._env)
        except Unsupported as exc:
            return original, str(exc)
        virtual = f"{_INLINED_PREFIX}/{version}/{html_file}"
        self._loader.virtual[virtual] = source
        try:
            return self._env.get_template(virtual), None
        except jinja2.TemplateError as exc:
            return original, f"inlined source does not compile: {exc}"

    def _render_html(self, compiled: CompiledMessage, data: Mapping[str, Any]) -> str | None:
        if compiled.html is None:
            return None
        if compiled.inline_reason is not None:
            html = sandbox.render(compiled.html, data, self.limits, self._clock)
            return str(self._inliner.inline(html))
        try:
            return sandbox.render(compiled.html, data, self.limits, self._clock)
        except errors.RenderError:
            # Report the error against the author's files, not the inlined source.
            assert compiled.html_original is not None
            sandbox.render(compiled.html_original, data, self.limits, self._clock)
            raise

    # -- change detection

    def _scan(self) -> dict[str, tuple[int, int]]:
        snapshot: dict[str, tuple[int, int]] = {}
        for folder, _dirs, files in os.walk(self.root):
            for file in files:
                path = os.path.join(folder, file)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                snapshot[path] = (stat.st_mtime_ns, stat.st_size)
        return snapshot

    def _maybe_rescan(self) -> None:
        now = self._clock()
        if now - self._checked_at < RESCAN_SECONDS:
            return
        with self._lock:
            self._checked_at = now
            snapshot = self._scan()
            if snapshot != self._snapshot:
                compiled = dict(self._compiled)
                self.reload()
                self._compiled.update(compiled)  # versions are content hashes: still valid

    # -- checking

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _check_file(self, path: Path) -> list[Problem]:
        name = self._relative(path)
        try:
            source = path.read_text("utf-8")
            tree = self._env.parse(source, name, str(path))
        except UnicodeDecodeError as exc:
            return [Problem(name, None, f"not UTF-8: {exc}")]
        except jinja2.TemplateSyntaxError as exc:
            return [Problem(name, exc.lineno, exc.message or str(exc))]
        problems: list[Problem] = []
        for ref in jinja2.meta.find_referenced_templates(tree):
            if ref is not None and not (self.root / ref).is_file():
                problems.append(Problem(name, _line_of(source, ref),
                                        f"unknown template {ref!r}"))
        return problems

    def _candidate_names(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and p.name not in SHARED_FOLDERS
                      and not p.name.startswith((".", "_")))

    def _check_parts(self, name: str) -> list[Problem]:
        folder = self.root / name
        problems = []
        for sub in [folder, *(p for p in folder.iterdir() if p.is_dir())]:
            present = {p.name for p in sub.iterdir() if p.is_file()}
            if sub == folder and SUBJECT_FILE not in present:
                problems.append(Problem(self._relative(sub), None, f"missing {SUBJECT_FILE}"))
            if sub == folder and not ({HTML_FILE, TEXT_FILE} & present):
                problems.append(Problem(self._relative(sub), None,
                                        f"missing {HTML_FILE} or {TEXT_FILE}"))
        return problems


def _line_of(source: str, needle: str) -> int | None:
    at = source.find(needle)
    return source.count("\n", 0, at) + 1 if at >= 0 else None


def _safe_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name \
        and name not in {".", ".."} and not name.startswith(".") \
        and name not in SHARED_FOLDERS
