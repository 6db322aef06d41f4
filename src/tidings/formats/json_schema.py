"""JSON Schema (draft 2020-12) validation of one decoded record.

Validators are compiled once per distinct schema (keyed by its canonical
JSON text) and kept in a small LRU cache, so a source that decodes many
messages against the same schema pays the compilation once (python-jsonschema is
imported then, ~4 MB resident, not by every process that imports the decoders). References are
resolved only inside the schema itself: an empty ``referencing.Registry``
never fetches a remote ``$ref``, keeping validation pure.

Every error is reported as an ``Issue`` with the JSON pointer of the failing
value (``/order/lines/0/qty``), sorted by pointer so output is stable. The
reason of a record is ``missing_field`` when every issue is a missing required
property, ``bad_value`` when every issue is about a value's type, format or
allowed values, else ``schema_violation``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from tidings.formats import errors

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

__all__ = ["CACHE_SIZE", "MAX_DETAIL_CHARS", "SchemaCheck", "compile_schema"]

CACHE_SIZE = 64
MAX_DETAIL_CHARS = 240
VALUE_KEYWORDS = frozenset({
    "type", "enum", "const", "format", "pattern", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "multipleOf", "minLength", "maxLength",
})


class SchemaCheck:
    """A compiled JSON Schema that turns one instance into its list of issues.

    A valid record is recognised by jsonschema-rs (compiled, ~40 times faster here than
    python-jsonschema's walk, which cost a RabbitMQ worker 11% of its CPU); the issues of a
    record it refuses are found and worded by python-jsonschema. jsonschema-rs is what the
    HTTP API validates with, so a record passes here exactly when it would pass there;
    should python-jsonschema find nothing wrong in a record jsonschema-rs refuses (regex
    dialects differ), the record goes on and the ingestor refuses it as the API would.
    """

    def __init__(self, validator: Draft202012Validator, fast: Any = None) -> None:
        self._validator = validator
        self._fast = fast

    def issues(self, instance: Any) -> list[tuple[str, errors.Issue]]:
        """Return (validator keyword, issue) for every error, sorted by pointer."""
        import referencing.exceptions

        try:
            found = list(self._validator.iter_errors(instance))
        except referencing.exceptions.Unresolvable as exc:
            raise errors.DefinitionError(f"JSON Schema reference cannot be resolved: {exc}") \
                from exc
        pairs = [(str(e.validator), errors.Issue(_pointer(e.absolute_path), _short(e.message)))
                 for e in found]
        return sorted(pairs, key=lambda p: (p[1].location, p[0], p[1].detail))

    def check(self, instance: Any, location: str) -> errors.DecodeError | None:
        """Return the DecodeError for ``instance`` at ``location``, or None if valid."""
        if self._fast is not None and self._fast.is_valid(instance):
            return None
        pairs = self.issues(instance)
        if not pairs:
            return None
        issues = tuple(issue for _, issue in pairs)
        first = issues[0]
        detail = f"{first.location or 'record'}: {first.detail}"
        if len(issues) > 1:
            detail += f" (and {len(issues) - 1} more)"
        return errors.DecodeError(_reason({kw for kw, _ in pairs}), location, detail, issues)


def compile_schema(schema: Mapping[str, Any]) -> SchemaCheck:
    """Return the cached compiled check of ``schema``; DefinitionError if it is invalid."""
    key = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
    return _compiled(key)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _compiled(key: bytes) -> SchemaCheck:
    import jsonschema
    import referencing
    from jsonschema import Draft202012Validator

    schema = orjson.loads(key)
    try:
        Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise errors.DefinitionError(f"invalid JSON Schema: {_short(exc.message)}") from exc
    validator = Draft202012Validator(
        schema, registry=referencing.Registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER)
    return SchemaCheck(validator, _fast_validator(schema))


def _fast_validator(schema: Any) -> Any:
    """jsonschema-rs's validator of ``schema``, or None where it cannot compile it (a
    ``$ref`` outside the schema, which it would try to fetch: python-jsonschema's empty
    registry reports it instead)."""
    import jsonschema_rs

    try:
        return jsonschema_rs.validator_for(schema, validate_formats=True,
                                           retriever=_no_remote_refs)
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError):
        return None


def _no_remote_refs(uri: str) -> Any:
    raise ValueError(f"remote reference {uri!r} is not fetched")


def _reason(keywords: set[str]) -> errors.ReasonCode:
    if keywords == {"required"}:
        return errors.ReasonCode.MISSING_FIELD
    if keywords <= VALUE_KEYWORDS:
        return errors.ReasonCode.BAD_VALUE
    return errors.ReasonCode.SCHEMA_VIOLATION


def _pointer(path: Any) -> str:
    """RFC 6901 pointer of a jsonschema path ("" is the record itself)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _short(text: str) -> str:
    return text if len(text) <= MAX_DETAIL_CHARS else text[: MAX_DETAIL_CHARS - 1] + "…"
