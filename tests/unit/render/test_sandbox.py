"""The sandbox refuses escapes, mutation and resource abuse, quickly."""

from __future__ import annotations

import time
from collections.abc import Iterator

import jinja2
import pytest

from tidings.render import errors, sandbox

# Smaller than the defaults so that refusals by budget take milliseconds even on a
# loaded CI machine; test_default_limits_refuse_nested_ranges checks the defaults.
LIMITS = sandbox.RenderLimits(timeout_seconds=0.5, max_output_bytes=200_000,
                              max_iterations=10_000)


@pytest.fixture(scope="module")
def env() -> sandbox.Sandbox:
    loader = jinja2.DictLoader({
        "page.html": "<p>{{ name }}</p>",
        "self.html": "{% include 'self.html' %}",
        "broken.txt": "line one\n{{ 1/0 }}\n",
    })
    return sandbox.make_environment(loader, LIMITS)


def run(env: sandbox.Sandbox, source: str, **data: object) -> str:
    return sandbox.render(env.from_string(source), data, LIMITS)


def timed_refusal(env: sandbox.Sandbox, source: str, error: type[Exception],
                  **data: object) -> float:
    started = time.perf_counter()
    with pytest.raises(error):
        run(env, source, **data)
    return time.perf_counter() - started


@pytest.mark.parametrize("source", [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ x.__dict__ }}",
    "{{ (1).__class__.__base__ }}",
    "{{ ''.format.__globals__ }}",
    "{{ '{0.__class__}'.format(1) }}",
])
def test_python_escapes_are_refused(env: sandbox.Sandbox, source: str) -> None:
    with pytest.raises((errors.SandboxViolation, errors.RenderError)):
        run(env, source, x=object())


@pytest.mark.parametrize("source", [
    "{{ items.append(4) }}", "{{ mapping.update({'a': 1}) }}", "{{ mapping.pop('k') }}",
    "{{ items.clear() }}",
])
def test_mutation_is_refused(env: sandbox.Sandbox, source: str) -> None:
    items, mapping = [1, 2, 3], {"k": "v"}
    with pytest.raises(errors.SandboxViolation, match="unsafe"):
        run(env, source, items=items, mapping=mapping)
    assert items == [1, 2, 3] and mapping == {"k": "v"}


@pytest.mark.parametrize("source", [
    "{{ 'x' * 10**9 }}",
    "{{ 10**9 * 'x' }}",
    "{{ [0] * 10**9 }}",
    "{{ 9 ** (9 ** 9) }}",
    "{{ 'a' | center(1000000000) }}",
    "{{ 'a'.ljust(1000000000) }}",
    "{{ ('a' * 1000000).replace('a', 'bb' * 50) }}",
    "{{ ','.join(range(9999)|map('string')) * 100 }}",
    "{{ ('x' * 1000).join(range(9999)|map('string')) }}",
    "{{ '%0999999999d' % 1 }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ '{:>{w}}'.format(1, w=999999999) }}",
    "{{ (1).to_bytes(1000000000, 'big') }}",
    "{{ [1] | batch(1000000000, 0) | list }}",
    "{{ 'a\nb' | indent(1000000000) }}",
    "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}",
    "{% set ns = namespace(s=[1]) %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}"
    "{% endfor %}",
])
def test_amplification_is_refused_fast(env: sandbox.Sandbox, source: str) -> None:
    # "Fast": bounded by the limits, far below the unbounded cost (minutes, gigabytes).
    assert timed_refusal(env, source, errors.RenderLimitExceeded) < 1.0


@pytest.mark.parametrize("source", [
    "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
    "{% for i in range(10**9) %}{% endfor %}",
    "{% for a in t %}{% for b in t %}{% for c in t %}{% endfor %}{% endfor %}{% endfor %}",
    "{% for a in t|map('string') %}{% for b in t|map('string') %}{% endfor %}{% endfor %}",
    "{{ range(6000)|list|length }}{{ range(6000)|list|length }}",
])
def test_nested_and_huge_loops_are_refused_fast(env: sandbox.Sandbox, source: str) -> None:
    assert timed_refusal(env, source, errors.RenderLimitExceeded, t=list(range(1000))) < 1.0


def test_endless_output_is_refused_by_size(env: sandbox.Sandbox) -> None:
    source = "{% for i in range(9999) %}{{ 'x' * 1000 }}{% endfor %}"
    assert timed_refusal(env, source, errors.RenderLimitExceeded) < 0.3


def test_default_limits_refuse_nested_ranges() -> None:
    env = sandbox.make_environment(jinja2.DictLoader({}), sandbox.RenderLimits())
    template = env.from_string(
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    started = time.perf_counter()
    with pytest.raises(errors.RenderLimitExceeded, match="100000 loop iterations"):
        sandbox.render(template, {}, sandbox.RenderLimits())
    assert time.perf_counter() - started < 0.1


def test_slow_loop_over_output_stops_near_the_timeout(env: sandbox.Sandbox) -> None:
    # 2**30 macro calls: no size limit is reached, only the deadline.
    source = ("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}"
              "{% endmacro %}{{ f(30) }}")
    elapsed = timed_refusal(env, source, errors.RenderTimeout)
    assert LIMITS.timeout_seconds <= elapsed < LIMITS.timeout_seconds + 0.4


def test_deadline_uses_the_injected_clock(env: sandbox.Sandbox) -> None:
    ticks: Iterator[float] = iter(float(i) for i in range(1_000_000))
    template = env.from_string("{% for i in range(10) %}{{ i }}{% endfor %}")
    with pytest.raises(errors.RenderTimeout):
        sandbox.render(template, {}, sandbox.RenderLimits(timeout_seconds=3),
                       clock=lambda: next(ticks))


def test_recursion_is_a_render_error(env: sandbox.Sandbox) -> None:
    with pytest.raises(errors.RenderLimitExceeded, match="RecursionError"):
        sandbox.render(env.get_template("self.html"), {}, LIMITS)


def test_undefined_is_loud_with_line(env: sandbox.Sandbox) -> None:
    with pytest.raises(errors.RenderError, match="'customer' is undefined") as caught:
        run(env, "Hello\n{{ customer.name }}")
    assert caught.value.line == 2


def test_error_carries_template_name_and_line(env: sandbox.Sandbox) -> None:
    with pytest.raises(errors.RenderError) as caught:
        sandbox.render(env.get_template("broken.txt"), {}, LIMITS)
    assert (caught.value.template, caught.value.line) == ("broken.txt", 2)
    assert "ZeroDivisionError" in caught.value.message


def test_syntax_error_is_translated(env: sandbox.Sandbox) -> None:
    with pytest.raises(jinja2.TemplateSyntaxError) as caught:
        env.from_string("{% for x in %}")
    error = sandbox.translate(caught.value)
    assert isinstance(error, errors.TemplateSyntaxError) and error.line == 1


def test_ordinary_templates_still_work(env: sandbox.Sandbox) -> None:
    source = ("{% for line in lines %}{{ loop.index }}/{{ loop.length }}:{{ line.sku }} "
              "{% endfor %}{{ range(3)|sum }} {{ 'a%sc'|format('b') }} {{ 2 ** 10 }} "
              "{{ 'x' * 3 }} {{ [1, 2] + [3] }} {{ 'ab'|replace('a', 'z') }} "
              "{{ '{:>4}'.format(7) }} {{ '%05.1f' % 3.14159 }}")
    out = run(env, source, lines=[{"sku": "A"}, {"sku": "B"}])
    assert out == "1/2:A 2/2:B 3 abc 1024 xxx [1, 2, 3] zb    7 003.1"


def test_recursive_loops_are_budgeted(env: sandbox.Sandbox) -> None:
    tree = [{"n": 1, "c": [{"n": 2, "c": []}]}]
    out = run(env, "{% for x in t recursive %}{{ x.n }}{{ loop(x.c) }}{% endfor %}", t=tree)
    assert out == "12"


def test_autoescape_follows_extension(env: sandbox.Sandbox) -> None:
    html = sandbox.render(env.get_template("page.html"), {"name": "<b>"}, LIMITS)
    assert html == "<p>&lt;b&gt;</p>"
    assert run(env, "{{ name }}", name="<b>") == "<b>"


def test_plain_render_is_limited_too(env: sandbox.Sandbox) -> None:
    with pytest.raises(errors.RenderLimitExceeded):
        env.from_string("{{ 'x' * 10**9 }}").render()


def test_dict_lookups_keep_jinja_semantics(env: sandbox.Sandbox) -> None:
    order = {"id": "SO-1", "items": ["tent"], "_secret": "s", "keys": "k"}
    assert run(env, "{{ order.id }}", order=order) == "SO-1"
    assert run(env, "{{ order._secret }}", order=order) == "s"  # an item, as in Jinja
    # a dict attribute still wins over an item of the same name, as in Jinja
    assert run(env, "{{ order.items()|list|length }}", order=order) == "4"
    assert run(env, "{{ order['keys'] }} {{ order.keys()|list|length }}", order=order) == "k 4"
    with pytest.raises(errors.RenderError, match="missing"):
        run(env, "{{ order.missing }}", order=order)
    with pytest.raises(errors.SandboxViolation):
        run(env, "{{ order.__class__ }}", order=order)


def test_templates_see_the_sandboxed_globals(env: sandbox.Sandbox) -> None:
    # A template's globals are a flat copy of the environment's, taken when it loads:
    # the budgeted range is there, lipsum is not, and per-template globals win.
    page = env.get_template("page.html")
    assert type(page.globals) is dict
    assert page.globals["range"] is sandbox.budget.BudgetedRange
    assert "lipsum" not in page.globals
    with pytest.raises(errors.RenderError):
        run(env, "{{ lipsum() }}")
    assert sandbox.render(env.from_string("{{ x }}-{{ range(2)|list }}", globals={"x": "own"}),
                          {}, LIMITS) == "own-[0, 1]"
    assert sandbox.render(env.from_string("{{ x }}", globals={"x": "own"}), {"x": "data"},
                          LIMITS) == "data"
