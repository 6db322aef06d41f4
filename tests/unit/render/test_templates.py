"""The template store: locales, versions, reloads, checks, and CSS inlined once."""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.render import errors, templates

FIXTURES = Path(__file__).parents[2] / "fixtures" / "render"
TEMPLATES = FIXTURES / "templates"
ORDER: dict[str, Any] = json.loads((FIXTURES / "order.json").read_text("utf-8"))
REGENERATE = os.environ.get("TIDINGS_REGEN_GOLDEN") == "1"
CASES = [("order_shipped", None), ("order_shipped", "de"), ("order_shipped", "de-AT"),
         ("order_confirmed", "en"), ("gift_note", None), ("promo_macro", None)]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def store() -> templates.TemplateStore:
    return templates.TemplateStore(TEMPLATES)


@pytest.fixture(scope="module")
def per_message() -> templates.TemplateStore:
    return templates.TemplateStore(TEMPLATES, inline_css_once=False)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATES, root)
    return root


def dom(html: str) -> list[tuple[str, list[tuple[str, str]], str, str]]:
    """Elements in document order with attributes, text and tail (whitespace collapsed)."""
    root = lxml.html.document_fromstring(html)
    return [(str(el.tag), sorted((k, " ".join(v.split())) for k, v in el.attrib.items()),
             " ".join((el.text or "").split()), " ".join((el.tail or "").split()))
            for el in root.iter()]


def test_names(store: templates.TemplateStore) -> None:
    assert store.names() == ["gift_note", "order_confirmed", "order_shipped", "promo_macro"]


def test_fixture_tree_checks_clean(store: templates.TemplateStore) -> None:
    assert store.check() == []


@pytest.mark.parametrize(("name", "locale"), CASES)
def test_inlined_once_equals_inlined_per_message(
        store: templates.TemplateStore, per_message: templates.TemplateStore,
        name: str, locale: str | None) -> None:
    once = store.render(name, ORDER, locale)
    each = per_message.render(name, ORDER, locale)
    assert once.html is not None and each.html is not None
    assert dom(once.html) == dom(each.html)
    assert once.text == each.text and once.subject == each.subject
    assert once.version == each.version


@pytest.mark.parametrize(("name", "locale", "once"), [
    ("order_shipped", None, True), ("order_shipped", "de-AT", True),
    ("order_confirmed", None, True),
    ("gift_note", None, False),    # dynamic class="total" with class selectors
    ("promo_macro", None, False),  # macros make markup at render time
])
def test_which_templates_inline_once(store: templates.TemplateStore, name: str,
                                     locale: str | None, once: bool) -> None:
    compiled = store.compiled(name, locale)
    assert compiled.inlined_once is once
    assert (compiled.inline_reason is None) is once


lines = st.lists(st.fixed_dictionaries({
    "name": st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]),
                    min_size=1, max_size=30),
    "qty": st.integers(1, 99),
    "price": st.decimals(0, 10_000, places=2, allow_nan=False).map(str),
    "gift": st.booleans(),
}), max_size=6)


@settings(max_examples=40, deadline=None)
@given(lines=lines, tracking=st.none() | st.just("https://t.example/?a=1&b=<2>"),
       first=st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]),
                     max_size=20),
       locale=st.sampled_from([None, "de", "de-AT"]))
def test_inlined_once_equals_per_message_for_any_order(
        lines: list[dict[str, Any]], tracking: str | None, first: str,
        locale: str | None) -> None:
    data = copy.deepcopy(ORDER)
    data["order"]["lines"], data["order"]["tracking_url"] = lines, tracking
    data["customer"]["first_name"] = first
    once = _STORE.render("order_shipped", data, locale)
    each = _PER_MESSAGE.render("order_shipped", data, locale)
    assert once.html is not None and each.html is not None
    assert dom(once.html) == dom(each.html)


_STORE = templates.TemplateStore(TEMPLATES)
_PER_MESSAGE = templates.TemplateStore(TEMPLATES, inline_css_once=False)


@pytest.mark.parametrize(("name", "locale"), [("order_shipped", "de-AT"),
                                              ("order_confirmed", None)])
def test_golden(store: templates.TemplateStore, name: str, locale: str | None) -> None:
    rendered = store.render(name, ORDER, locale)
    got = {"subject": rendered.subject, "html": rendered.html, "text": rendered.text,
           "locale": rendered.locale, "version": rendered.version}
    expected = FIXTURES / "rendered" / f"{name}.{locale or 'default'}.json"
    if REGENERATE:
        expected.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert got == json.loads(expected.read_text("utf-8"))


def test_locale_fallback(store: templates.TemplateStore) -> None:
    at = store.render("order_shipped", ORDER, "de_at")
    assert at.locale == "de-AT" and at.subject.startswith("Grüß Gott!")
    assert at.html is not None and "Sendung verfolgen" in at.html  # body from de/
    assert "€\xa012,50" in at.html                                     # Austrian numbers
    de = store.render("order_shipped", ORDER, "de-DE")
    assert de.locale == "de" and "12,50\xa0€" in (de.html or "")
    fr = store.render("order_shipped", ORDER, "fr")
    assert fr.locale == "en" and fr.subject == "Your order 4711 has shipped"
    assert len({at.version, de.version, fr.version}) == 3


def test_formatting_follows_requested_region_of_the_same_language(
        store: templates.TemplateStore) -> None:
    us = store.render("order_confirmed", ORDER, "en-US")
    assert us.locale == "en" and "€129.90" in us.subject
    assert store.render("order_confirmed", ORDER, "en-IN").subject.endswith("€129.90")


def test_subject_is_one_line_and_not_escaped(store: templates.TemplateStore) -> None:
    data = copy.deepcopy(ORDER)
    data["order"]["number"] = "A&B <1>"
    rendered = store.render("order_shipped", data, None)
    assert rendered.subject == "Your order A&B <1> has shipped"
    assert "A&amp;B &lt;1&gt;" in (rendered.html or "")


def test_text_from_body_txt_or_derived(store: templates.TemplateStore) -> None:
    confirmed = store.render("order_confirmed", ORDER, None)
    assert confirmed.text.splitlines()[0] == "Thank you, Anna!"
    shipped = store.render("order_shipped", ORDER, None)
    assert "Tea <green> & co (gift)" in shipped.text and "<td" not in shipped.text


def test_version_changes_with_a_partial_and_is_picked_up(tree: Path) -> None:
    clock = FakeClock()
    store = templates.TemplateStore(tree, clock=clock)
    before = store.render("order_shipped", ORDER, None)
    footer = tree / "partials" / "footer.html"
    footer.write_text("<p>New footer {{ shop.name }}</p>\n", "utf-8")
    os.utime(footer, ns=(1, 1))
    assert store.render("order_shipped", ORDER, None).version == before.version  # < 1 s
    clock.now += 1.5
    after = store.render("order_shipped", ORDER, None)
    assert after.version != before.version and "New footer" in (after.html or "")
    assert store.render("order_confirmed", ORDER, None).version != before.version


def test_reload_picks_up_changes_at_once(tree: Path) -> None:
    store = templates.TemplateStore(tree, clock=FakeClock())
    store.render("order_confirmed", ORDER, None)
    (tree / "order_confirmed" / "subject.txt").write_text("Changed {{ order.number }}\n")
    store.reload()
    assert store.render("order_confirmed", ORDER, None).subject == "Changed 4711"


def test_same_sources_same_version(tree: Path) -> None:
    a = templates.TemplateStore(tree).render("order_shipped", ORDER, "de")
    b = templates.TemplateStore(TEMPLATES).render("order_shipped", ORDER, "de")
    assert a.version == b.version


def test_check_reports_problems(tree: Path) -> None:
    (tree / "order_shipped" / "body.html").write_text(
        '{% extends "layouts/base.html" %}\n{% block content %}\n{% for x in %}\n'
        "{% endblock %}\n")
    (tree / "order_confirmed" / "subject.txt").unlink()
    (tree / "gift_note" / "body.html").write_text('{% include "partials/nope.html" %}\n')
    problems = templates.TemplateStore(tree).check()
    syntax = [p for p in problems if p.file == "order_shipped/body.html"]
    assert [p.line for p in syntax] == [3] and "Expected an expression" in syntax[0].message
    assert templates.Problem("order_confirmed", None, "missing subject.txt") in problems
    assert templates.Problem("gift_note/body.html", 1,
                             "unknown template 'partials/nope.html'") in problems
    assert len(problems) == 3


def test_unknown_template_and_part(store: templates.TemplateStore, tree: Path) -> None:
    with pytest.raises(errors.TemplateNotFound):
        store.render("nope", ORDER, None)
    with pytest.raises(errors.TemplateNotFound):
        store.render("../etc", ORDER, None)
    (tree / "empty").mkdir()
    with pytest.raises(errors.TemplateNotFound, match=r"subject\.txt"):
        templates.TemplateStore(tree).render("empty", ORDER, None)


def test_error_names_the_authors_file_and_line(store: templates.TemplateStore) -> None:
    data = copy.deepcopy(ORDER)
    del data["order"]["lines"][0]["qty"]
    with pytest.raises(errors.RenderError) as caught:
        store.render("order_shipped", data, None)
    assert caught.value.template == "partials/order_lines.html"
    assert caught.value.line == 7


def test_missing_variable_fails_loudly(store: templates.TemplateStore) -> None:
    with pytest.raises(errors.RenderError, match="customer"):
        store.render("order_confirmed", {k: v for k, v in ORDER.items()
                                         if k != "customer"}, None)


def test_hostile_template_is_contained(tree: Path) -> None:
    (tree / "evil").mkdir()
    (tree / "evil" / "subject.txt").write_text("{{ ''.__class__.__mro__ }}")
    (tree / "evil" / "body.txt").write_text("{% for i in range(10**6) %}x{% endfor %}")
    store = templates.TemplateStore(tree)
    with pytest.raises(errors.RenderError):
        store.render("evil", ORDER, None)
    (tree / "evil" / "subject.txt").write_text("ok")
    with pytest.raises(errors.RenderLimitExceeded):
        store.render("evil", ORDER, None)
