"""Message-type schemas: checked by jsonschema-rs, python-jsonschema only for a failing one."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tidings.project.schemas import SchemaProblem, SchemaSet


def load(tmp_path: Path, schema: object) -> SchemaSet:
    path = tmp_path / "order.json"
    path.write_text(json.dumps(schema))
    schemas = SchemaSet()
    schemas.load("order.confirmed", path, "schemas/order.json")
    return schemas


ORDER = {"type": "object", "required": ["order"],
         "properties": {"order": {"type": "object", "required": ["id"], "properties": {
             "id": {"type": "string", "pattern": "^SO-[0-9]+$"},
             "email": {"type": "string", "format": "email"}}}}}


def test_a_valid_schema_validates_events(tmp_path: Path) -> None:
    schemas = load(tmp_path, ORDER)
    assert schemas.validate("order.confirmed", {"order": {"id": "SO-1"}}) == []
    found = schemas.validate("order.confirmed", {"order": {"id": "X", "email": "nope"}})
    assert [v.pointer for v in found] == ["/order/email", "/order/id"]


@pytest.mark.parametrize(("schema", "message"), [
    ({"type": 5}, "5 is not valid under any of the given schemas"),
    ({"required": "id"}, "'id' is not of type 'array'"),
    ({"type": "string", "pattern": "("}, "'(' is not a 'regex'"),
    ({"items": [{"type": "string"}]}, "is not of type 'object', 'boolean'"),
])
def test_a_broken_schema_is_worded_by_python_jsonschema(tmp_path: Path, schema: object,
                                                        message: str) -> None:
    with pytest.raises(SchemaProblem, match="not a valid JSON Schema") as raised:
        load(tmp_path, schema)
    assert raised.value.file == "schemas/order.json"
    assert message in str(raised.value)


def test_python_regexes_still_accepted(tmp_path: Path) -> None:
    """``(?i)`` fails jsonschema-rs's ECMA regex format check; python-jsonschema accepts it."""
    schemas = load(tmp_path, {"properties": {"id": {"type": "string", "pattern": "(?i)^so-"}}})
    assert schemas.validate("order.confirmed", {"id": "SO-1"}) == []
    assert [v.pointer for v in schemas.validate("order.confirmed", {"id": "PO-1"})] == ["/id"]


def test_loading_a_valid_schema_does_not_import_python_jsonschema(tmp_path: Path) -> None:
    path = tmp_path / "order.json"
    path.write_text(json.dumps(ORDER))
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from tidings.project.schemas import SchemaSet
        SchemaSet().load("order.confirmed", Path({str(path)!r}), "order.json")
        print("jsonschema" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
