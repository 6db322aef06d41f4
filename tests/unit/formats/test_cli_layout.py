"""``tidings layout`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tidings.cli_layout import layout
from tidings.formats import layout_templates, layout_yaml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "formats"
FIXED = FIXTURES / "fixed_width"
DELIMITED = FIXTURES / "delimited"


@pytest.fixture()
def template_file(tmp_path: Path) -> Path:
    path = tmp_path / "orders.yaml"
    path.write_text(layout_templates.template_text("fixed_width"))
    return path


@pytest.mark.parametrize("kind", ["fixed_width", "delimited"])
def test_template_prints_a_valid_documented_layout(kind: str) -> None:
    result = CliRunner().invoke(layout, ["template", "--format", kind])
    assert result.exit_code == 0
    parsed = layout_yaml.parse_layout(result.output)
    assert parsed.format == kind
    assert parsed.records is not None
    assert {s.role for s in parsed.records.values()} == {"header", "event", "child", "trailer"}
    assert "# " in result.output


def test_template_format_comes_from_the_environment() -> None:
    result = CliRunner().invoke(layout, ["template"],
                                env={"TIDINGS_LAYOUT_TEMPLATE_FORMAT": "delimited"})
    assert result.exit_code == 0
    assert "format: delimited" in result.output


def test_check_reports_each_record_and_event_of_a_good_file(template_file: Path) -> None:
    result = CliRunner().invoke(layout, ["check", str(FIXED / "orders_batch.txt"),
                                         "--layout", str(template_file)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("line 1") and "batch.id=0001" in lines[0]
    assert any("order.lines[].sku=SKU-BLUE-S" in line for line in lines)
    assert "event ok: record 2 (ORD) at line 2" in lines
    assert lines[-1] == "records: 7 ok, 0 refused; events: 2 ok, 0 refused"


def test_check_reports_errors_and_exits_1(template_file: Path) -> None:
    result = CliRunner().invoke(layout, ["check", str(FIXED / "orders_errors.txt"),
                                         "--layout", str(template_file), "--errors-only"])
    assert result.exit_code == 1
    out = result.output
    assert "ERROR bad_value at record 8 (LIN) at line 8 field qty: '000x2' is not an integer" in out
    assert "unknown_record at record 10 (NTE) at line 10" in out
    assert "envelope at record 14 (TRL) at line 15 field record_count" in out
    assert "batch.id=" not in out  # --errors-only hides the good records
    assert out.splitlines()[-1] == "records: 8 ok, 6 refused; events: 1 ok, 7 refused"


def test_check_takes_the_layout_from_the_environment(template_file: Path) -> None:
    result = CliRunner().invoke(layout, ["check", str(FIXED / "orders_batch.txt")],
                                env={"TIDINGS_LAYOUT": str(template_file),
                                     "TIDINGS_LAYOUT_OUTPUT": "json"})
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.output.splitlines()]
    assert objects[0]["gives"] == {"batch.id": "0001", "batch.created": "2026-03-01",
                                   "batch.sender": "ACME-OMS"}
    assert objects[-1] == {"summary": {"records_ok": 7, "records_refused": 0, "events_ok": 2,
                                       "events_refused": 0}, "clean": True}


def test_check_json_output_carries_reasons() -> None:
    result = CliRunner().invoke(layout, ["check", str(DELIMITED / "orders.csv"), "--layout",
                                         str(DELIMITED / "support" / "orders_csv.yaml"),
                                         "--output", "json"])
    assert result.exit_code == 1
    objects = [json.loads(line) for line in result.output.splitlines()]
    reasons = {o["error"]["reason"] for o in objects if o.get("error")}
    assert reasons == {"bad_value", "missing_field", "malformed"}


def test_check_with_an_invalid_layout_names_its_lines_and_exits_2() -> None:
    result = CliRunner().invoke(layout, ["check", str(FIXED / "orders_batch.txt"), "--layout",
                                         str(FIXTURES / "layout" / "bad_structure.yaml")])
    assert result.exit_code == 2
    assert "bad_structure.yaml:12: records.ORD.parent: 'XYZ' is not an event or child record" \
        in result.output


def test_check_reports_a_whole_file_failure() -> None:
    result = CliRunner().invoke(layout, ["check", str(DELIMITED / "missing_header_column.csv"),
                                         "--layout",
                                         str(DELIMITED / "support" / "orders_csv.yaml")])
    assert result.exit_code == 1
    assert "FATAL schema_violation at line 1: column 'status'" in result.output


def test_check_without_a_layout_is_a_usage_error() -> None:
    result = CliRunner().invoke(layout, ["check", str(FIXED / "orders_batch.txt")], env={})
    assert result.exit_code == 2
    assert "--layout" in result.output


def test_help_names_every_environment_variable() -> None:
    runner = CliRunner()
    check_help = runner.invoke(layout, ["check", "--help"]).output
    template_help = runner.invoke(layout, ["template", "--help"]).output
    for var in ("TIDINGS_LAYOUT", "TIDINGS_LAYOUT_OUTPUT", "TIDINGS_LAYOUT_ERRORS_ONLY"):
        assert var in check_help
    assert "TIDINGS_LAYOUT_TEMPLATE_FORMAT" in template_help
