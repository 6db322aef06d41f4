"""Size guards: refuse an operation before it builds something huge.

Three doors let a short template allocate a lot: the ``*``, ``**`` and ``%``
operators, a few string methods (widths, ``replace``, ``join``,
``translate``, ``format``) and a few filters (``center``, ``indent``,
``batch``, ``slice``, ...). Each is checked here against the render's
output limit *before* it runs; results that can at most double (``+``,
``~``) are checked after. Every guard also checks the deadline.
"""

from __future__ import annotations

import operator
import re
import string
from collections.abc import Callable, Iterable, Sized
from typing import Any

from jinja2 import filters as jinja_filters
from jinja2 import pass_environment, pass_eval_context
from jinja2.environment import Environment
from jinja2.nodes import EvalContext

from tidings.render import budget, errors

__all__ = [
    "MAX_INT_BITS",
    "binop",
    "check_call",
    "check_size",
    "guarded_filters",
]

# Largest integer a template may build (about 1,200 decimal digits).
MAX_INT_BITS = 4096
_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow,
}
_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")


def _limits() -> budget.RenderLimits:
    return budget.current().limits


def _refuse(what: str) -> errors.RenderLimitExceeded:
    return errors.RenderLimitExceeded(f"{what} exceeds the render's size limit")


def _length_limit(value: Any) -> int:
    limits = _limits()
    if isinstance(value, str | bytes):
        return limits.max_output_bytes
    return limits.max_iterations


def check_size(value: Any) -> Any:
    """Refuse a finished value that is larger than one render may produce."""
    if isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            raise _refuse(f"integer of {value.bit_length()} bits")
    elif (isinstance(value, Sized) and not isinstance(value, budget.BudgetedRange)
          and len(value) > _length_limit(value)):
        raise _refuse(f"result of {len(value)} items")
    return value


def _check_repeat(left: Any, right: Any) -> None:
    for seq, count in ((left, right), (right, left)):
        if (isinstance(count, int) and isinstance(seq, str | bytes | list | tuple)
                and len(seq) * max(count, 0) > _length_limit(seq)):
            raise _refuse(f"repetition of {len(seq)} items {count} times")


def _check_power(base: Any, exponent: Any) -> None:
    if (isinstance(base, int) and isinstance(exponent, int) and exponent > 0
            and abs(base) > 1 and base.bit_length() * exponent > MAX_INT_BITS):
        raise _refuse(f"power {base}**{exponent}")


def _check_widths(numbers: Iterable[str], what: str) -> None:
    limit = _limits().max_output_bytes
    for number in numbers:
        if number == "*" or (number and int(number) > limit):
            raise _refuse(f"width {number!r} in {what}")


def _check_printf(fmt: Any) -> None:
    if isinstance(fmt, str | bytes):
        text = fmt if isinstance(fmt, str) else fmt.decode("latin-1")
        for match in _PRINTF_SPEC.finditer(text):
            _check_widths([g for g in match.groups() if g], "a % format")


def _check_format_string(fmt: str, args: Iterable[Any]) -> None:
    for _literal, field, spec, _conv in string.Formatter().parse(fmt):
        if field is not None and spec:
            _check_widths(_DIGITS.findall(spec), "a format spec")
            if "{" in spec:  # nested width taken from the arguments
                for arg in args:
                    if isinstance(arg, int) and arg > _limits().max_output_bytes:
                        raise _refuse(f"nested format width {arg}")


def binop(op: str, left: Any, right: Any) -> Any:
    """Evaluate an intercepted binary operator under the size guards."""
    budget.tick()
    if op == "*":
        _check_repeat(left, right)
    elif op == "**":
        _check_power(left, right)
    elif op == "%":
        _check_printf(left)
    return check_size(_BINOPS[op](left, right))


def _width_arg(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    values = list(args[:1]) + [kwargs.get(k) for k in ("width", "tabsize")]
    for value in values:
        if isinstance(value, int) and value > _limits().max_output_bytes:
            raise _refuse(f"width {value}")


def _replace_size(text: Any, args: tuple[Any, ...]) -> int:
    old, new = args[0], args[1]
    count = text.count(old) if old else len(text) + 1
    if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
        count = min(count, args[2])
    return int(len(text) + count * (len(new) - len(old)))


def _join_size(sep: Any, items: list[Any]) -> int:
    return len(sep) * max(len(items) - 1, 0) + sum(
        len(i) if isinstance(i, str | bytes) else 0 for i in items)


def _translate_size(text: Any, table: Any) -> int:
    if not isinstance(table, dict):
        return len(text)
    longest = max((len(v) for v in table.values() if isinstance(v, str | bytes)), default=1)
    return len(text) * max(longest, 1)


def check_call(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Check a method call of a str/bytes/int before it runs; may return new args."""
    budget.tick()
    target = getattr(obj, "__wrapped__", obj)  # the sandbox wraps str.format
    owner = getattr(target, "__self__", None)
    name = getattr(target, "__name__", "")
    limit = _limits().max_output_bytes
    if isinstance(owner, str | bytes):
        if name in {"center", "ljust", "rjust", "zfill", "expandtabs"}:
            _width_arg(args, kwargs)
        elif name == "replace" and len(args) >= 2:
            if _replace_size(owner, args) > limit:
                raise _refuse("replace()")
        elif name == "join" and args:
            items = list(args[0])
            if _join_size(owner, items) > limit:
                raise _refuse("join()")
            return (items, *args[1:])
        elif name == "translate" and args:
            if _translate_size(owner, args[0]) > limit:
                raise _refuse("translate()")
        elif name in {"format", "format_map"} and isinstance(owner, str):
            _check_format_string(owner, [*args, *kwargs.values()])
    elif isinstance(owner, int) and name == "to_bytes":
        length = args[0] if args else kwargs.get("length", 1)
        if isinstance(length, int) and length > limit:
            raise _refuse("to_bytes()")
    return args


def _center(value: Any, width: int = 80) -> str:
    _width_arg((width,), {})
    return jinja_filters.do_center(value, width)


def _indent(value: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    pad = len(width) if isinstance(width, str) else width
    lines = str(value).count("\n") + 1
    if pad * lines + len(str(value)) > _limits().max_output_bytes:
        raise _refuse("indent")
    return jinja_filters.do_indent(value, width, first, blank)


@pass_eval_context
def _replace(eval_ctx: EvalContext, value: Any, old: str, new: str,
             count: int | None = None) -> Any:
    args = (old, new) if count is None else (old, new, count)
    if _replace_size(str(value), args) > _limits().max_output_bytes:
        raise _refuse("replace")
    return jinja_filters.do_replace(eval_ctx, value, old, new, count)


def _batch(value: Any, linecount: int, fill_with: Any = None) -> Any:
    if linecount > _limits().max_iterations:
        raise _refuse(f"batch of {linecount}")
    return jinja_filters.do_batch(value, linecount, fill_with)


def _slice(value: Any, slices: int, fill_with: Any = None) -> Any:
    if slices > _limits().max_iterations:
        raise _refuse(f"slice into {slices}")
    return jinja_filters.do_slice(value, slices, fill_with)


def _wordwrap_guard(value: Any, width: int = 79, break_long_words: bool = True,
                    wrapstring: str | None = None) -> None:
    wrap = wrapstring or "\n"
    if len(str(value)) * len(wrap) > _limits().max_output_bytes:
        raise _refuse("wordwrap")


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    _check_printf(value)
    return check_size(jinja_filters.do_format(value, *args, **kwargs))  # type: ignore[no-any-return]


def guarded_filters(env: Environment) -> dict[str, Callable[..., Any]]:
    """Replacements for the builtin filters that can amplify their input."""
    wordwrap = env.filters["wordwrap"]

    @pass_environment
    def _wordwrap(e: Environment, value: Any, *args: Any, **kwargs: Any) -> str:
        _wordwrap_guard(value, *args, **kwargs)
        return wordwrap(e, value, *args, **kwargs)  # type: ignore[no-any-return]

    return {"center": _center, "indent": _indent, "batch": _batch, "slice": _slice,
            "wordwrap": _wordwrap, "format": _format, "replace": _replace}
