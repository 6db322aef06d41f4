"""JSON decoder: one object, an array of objects, or NDJSON, checked by a JSON Schema.

``decode_json(data, schema)`` takes a whole document (bytes, UTF-8):

- one object: one record at location ``"document"``;
- an array: one record per element, located by JSON pointer (``/0``, ``/1``);
- ``records_at="/orders"``: the records are the object or array found at that
  pointer inside the document (``/orders/0``, ``/orders/1``);
- NDJSON (one object per line): recognised when the document as a whole does
  not parse but its first non-blank line is an object on its own; each record
  is located by ``"line N"``.

``decode_ndjson(lines, schema)`` takes an iterable of byte lines (an open
binary file) and never holds more than one line in memory.

A record that is not an object, or breaks the schema, becomes a
``RecordError`` (the schema's issues are listed by JSON pointer, see
``json_schema``); a document that cannot be parsed at all, is not UTF-8 or is
over ``max_bytes`` raises ``DecodeError`` when iterated.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from tidings.formats import errors, json_schema, records

__all__ = ["MAX_DOCUMENT_BYTES", "MAX_LINE_BYTES", "decode_json", "decode_ndjson"]

MAX_DOCUMENT_BYTES = 16_000_000
MAX_LINE_BYTES = 1_000_000
ROOT_LOCATION = "document"
R = errors.ReasonCode


def decode_json(data: bytes, schema: Mapping[str, Any] | None = None, *,
                records_at: str = "",
                max_bytes: int = MAX_DOCUMENT_BYTES) -> Iterator[records.Decoded]:
    """Yield one item per record of a JSON document (object, array, or NDJSON)."""
    if len(data) > max_bytes:
        raise errors.DecodeError(R.TOO_LARGE, ROOT_LOCATION,
                                 f"{len(data)} bytes is over the limit of {max_bytes}")
    check = json_schema.compile_schema(schema) if schema is not None else None
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if _looks_like_ndjson(data):
            yield from _decode_lines(data.splitlines(), check, max_bytes)
            return
        raise _parse_error(data, exc, ROOT_LOCATION) from exc
    yield from _decode_document(document, check, records_at)


def decode_ndjson(lines: Iterable[bytes], schema: Mapping[str, Any] | None = None, *,
                  max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[records.Decoded]:
    """Yield one item per non-blank line of NDJSON, located by "line N"."""
    check = json_schema.compile_schema(schema) if schema is not None else None
    yield from _decode_lines(lines, check, max_line_bytes)


def _decode_document(document: Any, check: json_schema.SchemaCheck | None,
                     records_at: str) -> Iterator[records.Decoded]:
    found = _resolve_pointer(document, records_at)
    if isinstance(found, list):
        for index, item in enumerate(found):
            yield _record(item, f"{records_at}/{index}", check, None)
    elif isinstance(found, dict):
        yield _record(found, records_at or ROOT_LOCATION, check, None)
    else:
        raise errors.DecodeError(R.BAD_VALUE, records_at or ROOT_LOCATION,
                                 f"expected an object or an array, got {_kind(found)}")


def _decode_lines(lines: Iterable[bytes], check: json_schema.SchemaCheck | None,
                  max_line_bytes: int) -> Iterator[records.Decoded]:
    for number, text in enumerate(lines, start=1):
        line = text.rstrip(b"\r\n")
        if not line.strip():
            continue
        location = f"line {number}"
        if len(line) > max_line_bytes:
            yield records.RecordError(errors.DecodeError(
                R.TOO_LARGE, location,
                f"{len(line)} bytes is over the line limit of {max_line_bytes}"), line)
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield records.RecordError(_parse_error(line, exc, location), line)
            continue
        yield _record(item, location, check, line)


def _record(item: Any, location: str, check: json_schema.SchemaCheck | None,
            raw: bytes | None) -> records.Decoded:
    if not isinstance(item, dict):
        error = errors.DecodeError(R.BAD_VALUE, location,
                                   f"expected an object, got {_kind(item)}")
        return records.RecordError(error, raw if raw is not None else orjson.dumps(item))
    problem = check.check(item, location) if check is not None else None
    if problem is not None:
        return records.RecordError(problem, raw if raw is not None else orjson.dumps(item))
    return records.DecodedRecord(item, location, None)


def _resolve_pointer(document: Any, pointer: str) -> Any:
    if not pointer:
        return document
    if not pointer.startswith("/"):
        raise errors.DefinitionError(f"records_at must be a JSON pointer, got {pointer!r}")
    node = document
    for token in pointer[1:].split("/"):
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            raise errors.DecodeError(R.MISSING_FIELD, pointer,
                                     "the document has nothing at this pointer")
    return node


def _looks_like_ndjson(data: bytes) -> bool:
    for line in data.splitlines():
        if line.strip():
            try:
                return isinstance(orjson.loads(line), dict)
            except orjson.JSONDecodeError:
                return False
    return False


def _parse_error(data: bytes, exc: orjson.JSONDecodeError, location: str) -> errors.DecodeError:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        return errors.DecodeError(R.ENCODING, location,
                                  f"not valid UTF-8 at byte {bad.start}: {bad.reason}")
    where = f"line {exc.lineno} column {exc.colno}" if location == ROOT_LOCATION \
        else f"column {exc.colno}"
    return errors.DecodeError(R.MALFORMED, location, f"{exc.msg} at {where}")


def _kind(value: Any) -> str:
    names = {list: "an array", dict: "an object", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)
