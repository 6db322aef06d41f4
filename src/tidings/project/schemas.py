"""JSON Schemas of message types: loaded once, validators compiled once.

The schema itself is checked with python-jsonschema (draft 2020-12, clear
messages for schema authors); events are validated with jsonschema-rs, which
gives the same errors and paths at about 2 us an event instead of 250 us.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

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
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise SchemaProblem(label, f"not a valid JSON Schema: {exc.message}") from exc
        self._validators[name] = jsonschema_rs.validator_for(schema, validate_formats=True)

    def validate(self, name: str, payload: Mapping[str, Any]) -> list[Violation]:
        validator = self._validators.get(name)
        if validator is None:
            return []
        if validator.is_valid(payload):
            return []
        errors = sorted(validator.iter_errors(payload),
                        key=lambda e: [str(p) for p in e.instance_path])
        return [Violation(_pointer(e.instance_path), e.message) for e in errors]


def _pointer(path: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)
