"""Inlining once: which sources qualify, and that those that do match per-message."""

from __future__ import annotations

from typing import Any

import jinja2
import lxml.html
import pytest

from tidings.render import constructs, flatten, inline, sandbox

STYLE = ("<style>td { padding: 4px } .paid { color: green } "
         "tr.total td { font-weight: bold } p { margin: 0 }</style>")
DATA: dict[str, Any] = {"rows": [{"n": "a<b", "paid": True}, {"n": "c&d", "paid": False}],
                        "color": "#c00", "title": "T", "url": "https://x.example/?a=1&b=2"}


def env_for(files: dict[str, str]) -> sandbox.Sandbox:
    return sandbox.make_environment(jinja2.FunctionLoader(
        lambda name: files.get(name)), sandbox.RenderLimits())


def inlined(files: dict[str, str], name: str = "body.html") -> tuple[sandbox.Sandbox, str]:
    env = env_for(files)
    flat = flatten.flatten(name, lambda n: files[n], env)
    return env, inline.inline_source(flat.source, inline.make_inliner(), env)


def dom(html: str) -> list[tuple[str, list[tuple[str, str]], str, str]]:
    root = lxml.html.document_fromstring(html)
    return [(str(e.tag), sorted(e.attrib.items()), " ".join((e.text or "").split()),
             " ".join((e.tail or "").split())) for e in root.iter()]


ELIGIBLE = {
    "rows with tbody": f"<html><head>{STYLE}</head><body><table><tbody>"
                       "{% for r in rows %}<tr><td>{{ r.n }}</td></tr>{% endfor %}"
                       "<tr class='total'><td>x</td></tr></tbody></table></body></html>",
    "if around cells": f"{STYLE}<table><tbody><tr>{{% if rows %}}<td>yes</td>{{% else %}}"
                       "<td>no</td>{% endif %}</tr></tbody></table>",
    "expression in style value": "<style>p { color: {{ color }}; }</style><p>{{ title }}</p>",
    "expressions in attributes": f"{STYLE}<p><a href='{{{{ url }}}}' title='{{{{ title }}}}'>"
                                 "go</a></p>",
    "whitespace control": f"{STYLE}<p>\n  {{%- if title -%}}\n  {{{{ title }}}}\n"
                          "  {%- endif %}\n</p>",
    "comments and sets": f"{STYLE}{{# note #}}{{% set x = title ~ '!' %}}<p>{{{{ x }}}}</p>",
    "mso conditional comment": f"{STYLE}<!--[if mso]><p>{{{{ title }}}}</p><![endif]--><p>x</p>",
}


@pytest.mark.parametrize("case", sorted(ELIGIBLE))
def test_eligible_sources_equal_per_message_inlining(case: str) -> None:
    files = {"body.html": ELIGIBLE[case]}
    env, source = inlined(files)
    once = sandbox.render(_compile(env, source), DATA, env.limits)
    each = inline.make_inliner().inline(
        sandbox.render(env.get_template("body.html"), DATA, env.limits))
    assert dom(once) == dom(each)
    assert "style=" in once


def _compile(env: sandbox.Sandbox, source: str) -> jinja2.Template:
    """Compile ``source`` under an .html name, so autoescaping applies as in the store."""
    return jinja2.Template.from_code(
        env, env.compile(source, "inlined/body.html"), env.make_globals(None), None)


REFUSED = {
    "rows without tbody": (f"{STYLE}<table>{{% for r in rows %}}<tr><td>{{{{ r.n }}}}</td></tr>"
                           "{% endfor %}</table>", "elsewhere in the HTML tree"),
    "conditional class": (f"{STYLE}<table><tbody>{{% for r in rows %}}"
                          "<tr class='{% if r.paid %}paid{% endif %}'><td>x</td></tr>"
                          "{% endfor %}</tbody></table>", "dynamic class"),
    "conditional attribute": (f"{STYLE}<p {{% if title %}}class='paid'{{% endif %}}>x</p>",
                              "attribute name"),
    "structural selector": ("<style>tr:nth-child(even) td { color: red }</style><table>"
                            "<tbody>{% for r in rows %}<tr><td>x</td></tr>{% endfor %}"
                            "</tbody></table>", "structural"),
    "sibling selector": ("<style>p + p { color: red }</style>{% if title %}<p>a</p>"
                         "{% endif %}<p>b</p>", "structural"),
    "statement in style": ("<style>{% if title %}p { color: red }{% endif %}</style><p>x</p>",
                           "CSS selector"),
    "statement in a declaration": ("<style>p { color: {% if title %}red{% endif %} }</style>"
                                   "<p>x</p>", "inside <style>"),
    "expression as selector": ("<style>.{{ title }} { color: red }</style><p>x</p>",
                               "CSS selector"),
    "dynamic tag name": ("<style>p { color: red }</style><{{ title }}>x</{{ title }}>",
                         "tag name"),
    "text between rows": (f"{STYLE}<table><tbody><tr><td>{{{{ url }}}}</td></tr>"
                          "{{ title }}</tbody></table>", "moved"),
    "statement in title": ("<html><head><title>{% if title %}T{% endif %}</title>"
                           f"{STYLE}</head><body><p>x</p></body></html>", "<title>"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_sources_that_could_differ_are_refused(case: str) -> None:
    source, reason = REFUSED[case]
    with pytest.raises(constructs.Unsupported, match=reason):
        inlined({"body.html": source})


@pytest.mark.parametrize(("body", "reason"), [
    ("{% macro b() %}<b>x</b>{% endmacro %}{{ b() }}", "macro"),
    ("{% from 'm.html' import b %}{{ b() }}", "from"),
    ("{{ title | safe }}", "markup made at render time"),
    ("{% set x %}<b>y</b>{% endset %}{{ x }}", "block-form"),
    ("{% include name_of_partial %}", "dynamic"),
    ("{% include 'p.html' ignore missing %}", "dynamic or modified"),
    ("{% raw %}{{ x }}{% endraw %}", "raw"),
    ("{{ self.title() }}", "markup made at render time"),
    ("<p>x</p>{% extends 'base.html' %}", "extends must come first"),
])
def test_flatten_refuses(body: str, reason: str) -> None:
    files = {"body.html": body, "base.html": "{% block title %}{% endblock %}",
             "p.html": "<p>p</p>", "m.html": "{% macro b() %}{% endmacro %}"}
    with pytest.raises(constructs.Unsupported, match=reason):
        flatten.flatten("body.html", lambda n: files[n], env_for(files))


def test_flatten_equals_jinja_inheritance() -> None:
    files = {
        "base.html": "<h1>{% block title %}Base{% endblock %}</h1>\n{%- block body %}"
                     "<p>{% block inner %}in{% endblock %}</p>{% endblock -%}\n"
                     "<i>{% include 'foot.html' %}</i>",
        "mid.html": "{% extends 'base.html' %}{% block title %}Mid {{ super() }}{% endblock %}"
                    "{% block inner %}[{{ super() }}]{% endblock %}",
        "child.html": "{% extends 'mid.html' %}{% set who = 'you' %}"
                      "{% block title %}Child {{ super() }} {{ who }}{% endblock %}",
        "foot.html": "{% set n = 3 %}{{ n }}{% for r in rows %}{{ r.n }}{% endfor %}",
    }
    env = env_for(files)
    flat = flatten.flatten("child.html", lambda n: files[n], env)
    assert flat.used == ("child.html", "mid.html", "base.html", "foot.html")
    expected = sandbox.render(env.get_template("child.html"), DATA, env.limits)
    assert sandbox.render(_compile(env, flat.source), DATA, env.limits) == expected
    assert expected == "<h1>Child Mid Base you</h1><p>[in]</p><i>3a&lt;bc&amp;d</i>"


def test_scan_matches_jinja_on_tricky_sources() -> None:
    source = ("{{ '}}' }}{% set d = {'a': {'b': '%}'}} %}{# {{ #}"
              "{{- x -}}{%+ if y %}{% endif %}")
    items = constructs.scan(source, jinja2.Environment())
    assert [i.kind for i in items] == ["var", "stmt", "comment", "var", "stmt", "stmt"]
    assert "".join(i.text for i in items) == source
