"""JSON Schemas of message types: loaded once, validators compiled once.

Events are validated with jsonschema-rs, which gives the same errors and paths
as python-jsonschema at about 2 us an event instead of 250 us. The schema
itself is checked against the draft 2020-12 meta-schema (formats included) by
jsonschema-rs too; only a schema that fails there is checked again with
python-jsonschema, which decides as before and words the problem for schema
authors. Every process loads the project's schemas as it starts, and
python-jsonschema costs ~4 MB of resident memory, so a valid project never
imports it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

__all__ = ["SchemaProblem", "SchemaSet", "Violation"]


@dataclass(frozen=True, slots=True)
class Violation:
    pointer: str
    detail: str


class SchemaProblem(ValueError):
    def __init__(self, file: str, message: str) -> None:
        super().__init__(f"{file}: {message}")
        self.file = file


class SchemaSet:
    def __init__(self) -> None:
        self._validators: dict[str, Any] = {}

    def load(self, name: str, path: Path, label: str) -> None:
        try:
            schema = orjson.loads(path.read_bytes())
        except FileNotFoundError as exc:
            raise SchemaProblem(label, "file not found") from exc
        except orjson.JSONDecodeError as exc:
            raise SchemaProblem(label, f"not JSON: {exc}") from exc
        self._validators[name] = _validator(schema, label)

    def validate(self, name: str, payload: Mapping[str, Any]) -> list[Violation]:
        validator = self._validators.get(name)
        if validator is None:
            return []
        if validator.is_valid(payload):
            return []
        errors = sorted(validator.iter_errors(payload),
                        key=lambda e: [str(p) for p in e.instance_path])
        return [Violation(_pointer(e.instance_path), e.message) for e in errors]


META_SCHEMA_2020_12 = "https://json-schema.org/draft/2020-12/schema"


@functools.cache
def _meta_validator() -> Any:
    """Draft 2020-12's meta-schema (bundled with jsonschema-rs, never fetched)."""
    return jsonschema_rs.Draft202012Validator({"$ref": META_SCHEMA_2020_12},
                                              validate_formats=True)


def _validator(schema: Any, label: str) -> Any:
    """The compiled validator of a schema; ``SchemaProblem`` if the schema is not valid.

    Fast path: the schema passes the 2020-12 meta-schema in jsonschema-rs. Otherwise
    python-jsonschema decides (its regex check is Python's ``re``, jsonschema-rs's is
    ECMA 262: ``(?i)a`` passes the one and not the other) and words the problem.
    """
    if not _meta_validator().is_valid(schema):
        from jsonschema import Draft202012Validator  # the slow path
        from jsonschema.exceptions import SchemaError

        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise SchemaProblem(label, f"not a valid JSON Schema: {exc.message}") from exc
    try:
        return jsonschema_rs.validator_for(schema, validate_formats=True)
    except (jsonschema_rs.ValidationError, ValueError) as exc:
        message = str(exc).split("\n", 1)[0]
        raise SchemaProblem(label, f"not a valid JSON Schema: {message}") from exc


def _pointer(path: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)
