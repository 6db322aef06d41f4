"""JSON decoding beyond the golden files: caching, laziness, definitions."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from tidings.formats import errors, json_format, json_schema, records

R = errors.ReasonCode
SCHEMA = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}


def test_compiled_validators_are_cached_by_schema_content() -> None:
    first = json_schema.compile_schema({"type": "object", "title": "cache probe"})
    again = json_schema.compile_schema({"title": "cache probe", "type": "object"})
    other = json_schema.compile_schema({"type": "object", "title": "another"})
    assert first is again
    assert first is not other


def test_an_invalid_schema_is_a_definition_error() -> None:
    with pytest.raises(errors.DefinitionError, match="invalid JSON Schema"):
        json_schema.compile_schema({"type": "no-such-type"})


def test_a_remote_ref_is_never_fetched() -> None:
    schema = {"properties": {"a": {"$ref": "http://127.0.0.1:9/remote.json"}}}
    with pytest.raises(errors.DefinitionError, match="cannot be resolved"):
        list(json_format.decode_json(b'{"a": 1}', schema))


def test_ndjson_is_read_one_line_at_a_time() -> None:
    pulled: list[int] = []

    def lines() -> Iterator[bytes]:
        for n in range(1, 1001):
            pulled.append(n)
            yield orjson.dumps({"id": str(n)}) + b"\n"

    decoded = json_format.decode_ndjson(lines(), SCHEMA)
    first = next(decoded)
    assert isinstance(first, records.DecodedRecord)
    assert first.data == {"id": "1"} and first.location == "line 1"
    assert pulled == [1]


def test_every_schema_error_is_listed_with_its_pointer() -> None:
    schema = {"type": "object", "properties": {"lines": {"type": "array", "items": {
        "type": "object", "properties": {"qty": {"type": "integer"}}}}}}
    doc = b'{"lines": [{"qty": 1}, {"qty": "a"}, {"qty": 2.5}]}'
    (item,) = json_format.decode_json(doc, schema)
    assert isinstance(item, records.RecordError)
    assert item.reason is R.BAD_VALUE
    assert [i.location for i in item.error.issues] == ["/lines/1/qty", "/lines/2/qty"]


def test_pointer_tokens_are_escaped() -> None:
    schema = {"type": "object", "properties": {"a/b": {"type": "object", "properties": {
        "c~d": {"type": "string"}}}}}
    (item,) = json_format.decode_json(b'{"a/b": {"c~d": 1}}', schema)
    assert isinstance(item, records.RecordError)
    assert item.error.issues[0].location == "/a~1b/c~0d"


def test_records_at_a_missing_pointer_is_refused() -> None:
    with pytest.raises(errors.DecodeError) as refused:
        list(json_format.decode_json(b'{"orders": []}', None, records_at="/items"))
    assert refused.value.reason is R.MISSING_FIELD
    assert refused.value.location == "/items"


def test_an_overlong_ndjson_line_is_refused_alone() -> None:
    lines = [b'{"id": "1"}\n', b'{"id": "' + b"x" * 100 + b'"}\n', b'{"id": "3"}\n']
    out = list(json_format.decode_ndjson(lines, SCHEMA, max_line_bytes=50))
    assert [type(i).__name__ for i in out] == ["DecodedRecord", "RecordError", "DecodedRecord"]
    assert isinstance(out[1], records.RecordError) and out[1].reason is R.TOO_LARGE


def test_without_a_schema_any_object_passes() -> None:
    out = list(json_format.decode_json(b'[{"anything": [1, 2]}, {}]'))
    assert [r.location for r in out] == ["/0", "/1"]
    assert all(isinstance(r, records.DecodedRecord) for r in out)


def test_jsonable_turns_decimals_and_dates_into_text() -> None:
    import datetime as dt
    from decimal import Decimal

    value = {"a": [Decimal("1.50"), dt.date(2026, 3, 1)], "b": (1, None)}
    assert records.jsonable(value) == {"a": ["1.50", "2026-03-01"], "b": [1, None]}


class _Refusing:
    """A python-jsonschema validator that must not be asked (a valid record)."""

    def iter_errors(self, instance: object) -> Iterator[object]:
        raise AssertionError(f"python-jsonschema walked a valid record: {instance!r}")


def test_a_valid_record_is_recognised_without_python_jsonschema() -> None:
    check = json_schema.compile_schema({**SCHEMA, "title": "fast path"})
    fast = check._fast
    assert fast is not None
    walked = json_schema.SchemaCheck(_Refusing(), fast)  # type: ignore[arg-type]
    assert walked.check({"id": "SO-1"}, "line 1") is None
    # a refused record is worded by python-jsonschema, with its pointer
    problem = check.check({"id": 5}, "line 2")
    assert problem is not None and problem.reason is R.BAD_VALUE
    assert [i.location for i in problem.issues] == ["/id"]


def test_the_fast_path_never_passes_what_python_jsonschema_refuses() -> None:
    schema = {"type": "object", "properties": {
        "when": {"type": "string", "format": "date"},
        "code": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]+$"},
        "n": {"type": "integer", "minimum": 1, "maximum": 9},
        "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "uniqueItems": True}},
        "required": ["code"], "additionalProperties": False}
    check = json_schema.compile_schema(schema)
    assert check._fast is not None
    slow = json_schema.SchemaCheck(check._validator)  # python-jsonschema alone
    records_ = [{"code": "AB-1"}, {"code": "ab-1"}, {"code": "AB-1", "when": "2026-13-01"},
                {"code": "AB-1", "when": "2026-12-04"}, {"code": "AB-1", "n": 0},
                {"code": "AB-1", "n": 9.0}, {"code": "AB-1", "tags": ["a", "a"]},
                {"code": "AB-1", "tags": ["c"]}, {"code": "AB-1", "extra": 1}, {}, []]
    for record in records_:
        assert (check.check(record, "r") is None) == (slow.check(record, "r") is None), record


def test_a_schema_jsonschema_rs_cannot_compile_is_checked_by_python_jsonschema() -> None:
    remote = {"properties": {"a": {"$ref": "http://127.0.0.1:9/remote.json"}}}
    assert json_schema._fast_validator(remote) is None
