"""The sandboxed Jinja environment user templates run in, and the guarded render.

Templates are untrusted: they come from tenants and operators. The
environment is Jinja's :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`
(no private attributes, no mutation of lists, dicts and sets) plus limits
Python cannot impose from outside, since a thread cannot be killed:

* :func:`render` drives ``template.generate()`` and checks the deadline and
  the output size between chunks;
* ``range`` and every ``{% for %}`` pay into a per-render iteration budget
  (:mod:`tidings.render.budget`), and every call, operator and loop step
  checks the deadline;
* ``*``, ``**``, ``%``, ``+`` and ``~`` and the amplifying string methods and
  filters are size-guarded (:mod:`tidings.render.guards`).

Undefined variables are errors (``StrictUndefined``): a template that names
a field the event lacks fails loudly, in preview and at ingest, instead of
sending "Dear ,". Optional fields say so: ``{{ x | default("") }}`` or
``{% if x is defined %}``.

Autoescaping is on for ``.html``/``.htm``/``.xml`` names and off otherwise
(subjects and ``.txt`` bodies).
"""

from __future__ import annotations

import time
import types
from collections.abc import Mapping, MutableMapping
from typing import Any, cast

import jinja2
import jinja2.exceptions
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tidings.render import budget, errors, filters, guards

__all__ = ["RenderLimits", "Sandbox", "make_environment", "render"]

RenderLimits = budget.RenderLimits
# The filter every {% for %} iterable is wrapped in; a space keeps it out of
# reach of template authors.
_LOOP_FILTER = "tidings loop"
_AUTOESCAPE_EXTENSIONS = ("html", "htm", "xml")
_DICT_ATTRIBUTES = frozenset(dir(dict))


@jinja2.pass_context
def _loop_filter(context: jinja2.runtime.Context, items: Any) -> Any:
    # pass_context keeps Jinja from folding the filter at compile time.
    return budget.budgeted_loop(items)


class _CodeGenerator(CodeGenerator):
    """Compiles budget checks into loops and size checks into ``~``."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        for loop in node.find_all(nodes.For):
            wrapped = nodes.Filter(loop.iter, _LOOP_FILTER, [], [], None, None,
                                   lineno=loop.lineno)
            loop.iter = wrapped.set_environment(self.environment)
        super().visit_Template(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.checked_size(")
        super().visit_Concat(node, frame)
        self.write(")")


class _Template(jinja2.Template):
    """A template whose plain ``render()`` also runs under the limits."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        env = self.environment
        limits = env.limits if isinstance(env, Sandbox) else RenderLimits()
        return render(self, dict(*args, **kwargs), limits)


class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with budgets and size guards."""

    code_generator_class = _CodeGenerator
    template_class = _Template
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, limits: RenderLimits, **options: Any) -> None:
        super().__init__(**options)
        self.limits = limits

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        # A plain dict, where Jinja gives a ChainMap over the environment's globals: every
        # render copies a template's globals into its context, and iterating a ChainMap
        # costs ~3.5 us more a render. The globals are complete before the first template
        # is loaded (make_environment), so a copy taken then sees them all.
        return {**self.globals, **(d or {})}

    def getattr(self, obj: Any, attribute: str) -> Any:
        # ``order.id`` on an event's dict: Jinja tries the attribute first and, on the
        # AttributeError, the item. A name that is no attribute of dict can only be an
        # item, so it is looked up directly (same result, without raising).
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)

    def call_binop(self, context: jinja2.runtime.Context, operator: str,
                   left: Any, right: Any) -> Any:
        return guards.binop(operator, left, right)

    def call(__self, __context: jinja2.runtime.Context, __obj: Any,
             *args: Any, **kwargs: Any) -> Any:
        if isinstance(__obj, LoopContext) and args:  # recursive loop(...)
            args = (budget.budgeted_loop(args[0]), *args[1:])
        args = guards.check_call(__obj, args, kwargs)
        return guards.check_size(super().call(__context, __obj, *args, **kwargs))

    def checked_size(self, value: Any) -> Any:
        return guards.check_size(value)


def make_environment(loader: jinja2.BaseLoader, limits: RenderLimits) -> Sandbox:
    """A sandboxed environment over ``loader`` enforcing ``limits``."""
    env = Sandbox(
        limits,
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(
            enabled_extensions=_AUTOESCAPE_EXTENSIONS, default_for_string=False,
            default=False),
        auto_reload=False,
        cache_size=-1,
    )
    env.globals["range"] = budget.BudgetedRange
    env.globals.pop("lipsum", None)
    env.filters.update(guards.guarded_filters(env))
    env.filters.update(filters.FILTERS)
    env.filters[_LOOP_FILTER] = _loop_filter
    return env


def render(template: jinja2.Template, data: Mapping[str, Any], limits: RenderLimits,
           clock: budget.Clock = time.monotonic) -> str:
    """Render ``template`` with ``data`` inside ``limits``; raises RenderError."""
    spent = budget.Budget(limits, clock)
    with budget.active(spent):
        try:
            return _drive(template, data, spent)
        except errors.RenderError as exc:
            raise exc.located(*_location(exc, template)) from None
        except Exception as exc:
            raise translate(exc, template) from exc


def _drive(template: jinja2.Template, data: Mapping[str, Any], spent: budget.Budget) -> str:
    """Collect the output, checking its size and the deadline as it grows.

    ``root_render_func`` is driven directly (``Template.generate`` adds a generator
    layer per chunk); on an error Jinja's ``handle_exception`` rewrites the traceback
    to template lines, as ``generate`` would. Loops and calls check the deadline
    themselves (:mod:`tidings.render.budget`), so here it is checked every
    ``_DEADLINE_EVERY`` chunks. The size is counted in characters while four times
    that cannot pass the byte limit (UTF-8 takes at most four bytes a character),
    then in exact UTF-8 bytes.
    """
    limit = spent.limits.max_output_bytes
    counted = limit // 4  # chars below which the bytes cannot pass the limit
    parts: list[str] = []
    append = parts.append
    size = 0  # characters, then exact bytes once ``counted`` is passed
    exact = False
    try:
        # new_context copies any mapping (``dict(globals, **data)``), not only a dict
        for chunk in template.root_render_func(template.new_context(cast("dict[str, Any]", data))):
            append(chunk)
            if exact:
                size += _utf8_len(chunk)
            else:
                size += len(chunk)
                if size > counted:
                    size, exact = sum(_utf8_len(p) for p in parts), True
            if exact and size > limit:
                raise errors.RenderLimitExceeded(f"output exceeds {limit} bytes")
            if not len(parts) % _DEADLINE_EVERY:
                spent.check_deadline()
    except Exception:
        template.environment.handle_exception()  # raises, located in the template
    spent.check_deadline()
    return "".join(parts)


_DEADLINE_EVERY = 64


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def translate(exc: BaseException, template: jinja2.Template | None = None) -> errors.RenderError:
    """Our error for a foreign one raised while compiling or rendering."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return errors.TemplateSyntaxError(exc.message or str(exc), exc.name or exc.filename,
                                          exc.lineno)
    name, line = _location(exc, template)
    if isinstance(exc, jinja2.TemplateNotFound):
        return errors.TemplateNotFound(f"template not found: {exc.name}", name, line)
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return errors.SandboxViolation(str(exc), name, line)
    if isinstance(exc, RecursionError | MemoryError):
        return errors.RenderLimitExceeded(f"{type(exc).__name__}: {exc}", name, line)
    if isinstance(exc, jinja2.UndefinedError):
        return errors.RenderError(str(exc), name, line)
    return errors.RenderError(f"{type(exc).__name__}: {exc}", name, line)


def _location(exc: BaseException,
              template: jinja2.Template | None) -> tuple[str | None, int | None]:
    """The innermost template frame of ``exc``'s traceback (Jinja rewrites them)."""
    own_file = template.filename if template is not None else None
    fallback = template.name if template is not None else None
    found: tuple[str | None, int | None] = (fallback, None)
    tb: types.TracebackType | None = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.endswith(".py") and not filename.startswith("<frozen"):
            own = filename in {own_file, "<template>"}
            found = (fallback if own else filename, tb.tb_lineno)
        tb = tb.tb_next
    return found
