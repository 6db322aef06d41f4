"""Layout dictionaries: their checks (golden, with YAML lines), targets and field types."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.formats import (
    errors,
    fields,
    flatfile,
    layout,
    layout_templates,
    layout_yaml,
    records,
    targets,
)

from . import golden

LAYOUTS = golden.FIXTURES / "layout"
BAD_LAYOUTS = sorted(LAYOUTS.glob("*.yaml"))
R = errors.ReasonCode


@pytest.mark.parametrize("path", BAD_LAYOUTS, ids=[p.name for p in BAD_LAYOUTS])
def test_invalid_layout_problems_match_golden(path: Path) -> None:
    with pytest.raises(errors.LayoutError) as refused:
        layout_yaml.load_layout(path)
    actual = {"problems": [[line, message] for line, message in refused.value.problems]}
    target = golden.expected_path(path)
    if golden.UPDATE:
        target.parent.mkdir(exist_ok=True)
        target.write_text(json.dumps(actual, indent=2) + "\n")
    assert actual == json.loads(target.read_text())
    assert all(line is None or line >= 1 for line, _ in refused.value.problems)


def test_every_template_decodes_its_own_sample() -> None:
    for kind in layout_templates.TEMPLATES:
        lay = layout_yaml.parse_layout(layout_templates.template_text(kind), kind)
        out = list(flatfile.decode_flat(layout_templates.sample_lines(kind), lay))
        assert len(out) == 1, kind
        event = out[0]
        assert isinstance(event, records.DecodedRecord), event
        assert event.data["order"]["lines"][1]["sku"] == "SKU-RED-M"


def test_a_layout_built_in_python_runs_the_cross_checks_too() -> None:
    with pytest.raises(pydantic.ValidationError, match="fixed width needs 'position'"):
        layout.Layout(format="fixed_width", fields=(layout.FieldSpec(name="a", column=1),))


def test_numbers_in_allowed_values_and_codes_are_text() -> None:
    lay = layout_yaml.parse_layout("""
format: delimited
record_type: {column: 1}
records:
  10:
    fields: [{name: kind, column: 2, allowed: [1, 2]}]
""")
    assert lay.records is not None
    assert list(lay.records) == ["10"]
    assert lay.records["10"].fields[0].allowed == ("1", "2")


@pytest.mark.parametrize(("text", "head", "tail"), [
    ("order.id", (), ("order", "id")),
    ("order.lines[].sku", (("order", False), ("lines", True)), ("sku",)),
    ("a[].b[].c.d", (("a", True), ("b", True)), ("c", "d")),
])
def test_targets_split_at_their_last_list(text: str, head: tuple[tuple[str, bool], ...],
                                          tail: tuple[str, ...]) -> None:
    parsed = targets.parse_target(text)
    assert tuple((s.name, s.is_list) for s in parsed.head) == head
    assert parsed.tail == tail


@pytest.mark.parametrize("text", ["", "order..id", "order.lines[]", "order.1x", "a.b[0].c"])
def test_bad_targets_are_refused(text: str) -> None:
    with pytest.raises(targets.TargetError):
        targets.parse_target(text)


def test_grandchild_records_write_into_the_newest_line() -> None:
    event: dict[str, object] = {}
    order = targets.RecordWriter({"id": targets.parse_target("order.id")})
    line = targets.RecordWriter({"sku": targets.parse_target("order.lines[].sku")})
    serial = targets.RecordWriter({"no": targets.parse_target("order.lines[].serials[].no")})
    order.write(event, {"id": "A"})
    line.write(event, {"sku": "S1"})
    serial.write(event, {"no": "X1"})
    line.write(event, {"sku": "S2"})
    serial.write(event, {"no": "X2"})
    serial.write(event, {"no": "X3"})
    assert event == {"order": {"id": "A", "lines": [
        {"sku": "S1", "serials": [{"no": "X1"}]},
        {"sku": "S2", "serials": [{"no": "X2"}, {"no": "X3"}]}]}}


def test_a_grandchild_before_any_line_cannot_be_written() -> None:
    serial = targets.RecordWriter({"no": targets.parse_target("order.lines[].serials[].no")})
    with pytest.raises(targets.TargetError, match="no element of lines"):
        serial.write({}, {"no": "X1"})


def _convert(text: str, **spec: Any) -> object:
    return fields.converter(layout.FieldSpec(name="f", position=1, width=9, **spec))(text)


@pytest.mark.parametrize(("text", "spec", "value"), [
    ("  abc  ", {}, "abc"),
    ("  abc  ", {"strip": False}, "  abc  "),
    ("", {}, None),
    ("+0042", {"type": "integer"}, 42),
    ("-7", {"type": "integer"}, -7),
    ("0001250", {"type": "decimal", "scale": 2}, Decimal("12.50")),
    ("12.5", {"type": "decimal"}, Decimal("12.5")),
    ("20260301", {"type": "date", "format": "%Y%m%d"}, dt.date(2026, 3, 1)),
    ("yes", {"type": "boolean"}, True),
    ("n", {"type": "boolean"}, False),
    ("J", {"type": "boolean", "true_values": ["J"], "false_values": ["N"]}, True),
])
def test_field_types_convert(text: str, spec: dict[str, object], value: object) -> None:
    assert _convert(text, **spec) == value


@pytest.mark.parametrize(("text", "spec", "reason"), [
    ("   ", {"required": True}, R.MISSING_FIELD),
    ("D", {"allowed": ["A", "B", "C"]}, R.BAD_VALUE),
    ("1_000", {"type": "integer"}, R.BAD_VALUE),
    ("١٢", {"type": "integer"}, R.BAD_VALUE),
    ("NaN", {"type": "decimal"}, R.BAD_VALUE),
    ("12,50", {"type": "decimal"}, R.BAD_VALUE),
    ("20260229", {"type": "date", "format": "%Y%m%d"}, R.BAD_VALUE),
    ("maybe", {"type": "boolean"}, R.BAD_VALUE),
])
def test_field_problems_have_reasons(text: str, spec: dict[str, object],
                                     reason: errors.ReasonCode) -> None:
    with pytest.raises(fields.FieldProblem) as problem:
        _convert(text, **spec)
    assert problem.value.reason is reason


@settings(max_examples=300, deadline=None)
@given(fmt=st.sampled_from(["%Y%m%d", "%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y", "%y%m%d"]),
       text=st.text(alphabet="0123456789-./ ", min_size=6, max_size=10))
def test_the_fast_date_path_agrees_with_strptime(fmt: str, text: str) -> None:
    try:
        expected: object = dt.datetime.strptime(text.strip(), fmt).date()
    except ValueError:
        expected = R.BAD_VALUE
    try:
        actual = _convert(text, type="date", format=fmt)
    except fields.FieldProblem as problem:
        actual = problem.reason
    if text.strip():
        assert actual == expected


@given(day=st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2068, 12, 31)),
       fmt=st.sampled_from(["%Y%m%d", "%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y", "%y%m%d"]))
def test_every_date_round_trips(day: dt.date, fmt: str) -> None:
    assert _convert(day.strftime(fmt), type="date", format=fmt) == day
