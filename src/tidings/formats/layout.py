"""Layout dictionaries: what a delimited or fixed-width file holds, and where it goes.

A layout is written in YAML (``tidings layout template`` prints a documented
example) and loaded by ``layout_yaml.load_layout``. Its keys:

| key            | meaning                                                              |
|----------------|----------------------------------------------------------------------|
| `format`       | `delimited` or `fixed_width`                                         |
| `encoding`     | of the bytes (default utf-8); must keep ``\\n`` as one byte            |
| `delimiter`    | delimited: one character (`,`, `"\\t"` for TSV, `\\|`)                 |
| `quote`        | delimited: quote character (default `"`), `null` for none            |
| `header`       | delimited: the first line holds column names (default false)         |
| `fields`       | a single-record layout: every line is one event                      |
| `record_type`  | multi-record: where the record code sits (position+width or column)  |
| `records`      | multi-record: record code -> record layout (below)                   |

A record layout has `role` (`header`, `event`, `child`, `trailer`; default
`event`), `parent` (a child's parent record code; makes the role `child`),
`fields`, and for a trailer `count_field` (an integer field that must equal
the number of records since the previous trailer, counting the record codes
in `counts`, default `all` = every record including header and trailer).

A field has `name`, `position` (1-based first column) and `width` for
fixed width, or `column` (1-based index, or a header name) for delimited;
`type` (`string`, `integer`, `decimal` with optional implied `scale`,
`date` with a strptime `format`, `boolean` with `true_values` and
`false_values`), `required`, `allowed` (the values permitted, compared
after stripping), `strip` (default true) and `target` (where the value goes,
see ``targets``; default: the field name).

Checks that span several keys live in ``layout_checks``; they run when a
``Layout`` is built, unless the YAML loader defers them to report each
problem at its own line.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tidings.formats import layout_checks, targets

__all__ = [
    "DEFER_CHECKS",
    "FieldSpec",
    "FieldType",
    "Layout",
    "RecordSpec",
    "RecordTypeSpec",
    "Role",
]

FieldType = Literal["string", "integer", "decimal", "date", "boolean"]
Role = Literal["header", "event", "child", "trailer"]
Name = Annotated[str, Field(pattern=f"^{targets.NAME_PATTERN}$")]
DEFAULT_TRUE = ("Y", "YES", "T", "TRUE", "1")
DEFAULT_FALSE = ("N", "NO", "F", "FALSE", "0")
DEFER_CHECKS = "defer_layout_checks"
_TYPE_OPTIONS = {"format": "date", "scale": "decimal", "true_values": "boolean",
                 "false_values": "boolean"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    """One field of a record (see the module doc for each key)."""

    name: Name
    position: PositiveInt | None = None
    width: PositiveInt | None = None
    column: PositiveInt | str | None = None
    type: FieldType = "string"
    format: str | None = None
    scale: NonNegativeInt = 0
    true_values: tuple[str, ...] = DEFAULT_TRUE
    false_values: tuple[str, ...] = DEFAULT_FALSE
    required: bool = False
    allowed: tuple[str, ...] | None = None
    strip: bool = True
    target: str | None = None
    description: str | None = None

    @field_validator("allowed", "true_values", "false_values", mode="before")
    @classmethod
    def _numbers_as_text(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
                    for v in value]
        return value

    @model_validator(mode="after")
    def _options_fit_type(self) -> FieldSpec:
        for option, owner in _TYPE_OPTIONS.items():
            if option in self.model_fields_set and self.type != owner:
                raise ValueError(f"{option!r} is only for type {owner}, not {self.type}")
        if self.type == "date" and (not self.format or "%" not in self.format):
            raise ValueError("a date field needs a strptime 'format' such as '%Y%m%d'")
        self.target_path()
        return self

    def target_path(self) -> targets.Target:
        """The parsed target (the field name when no target is given)."""
        return targets.parse_target(self.target or self.name)


class RecordTypeSpec(_Strict):
    """Where the record code sits: position+width (fixed width) or column (delimited)."""

    position: PositiveInt | None = None
    width: PositiveInt | None = None
    column: PositiveInt | None = None


class RecordSpec(_Strict):
    """The layout of one record type of a multi-record file."""

    role: Role = "event"
    parent: str | None = None
    fields: tuple[FieldSpec, ...] = ()
    count_field: str | None = None
    counts: Literal["all"] | tuple[str, ...] = "all"
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _parent_makes_child(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("parent") and "role" not in data:
            return {**data, "role": "child"}
        return data

    @model_validator(mode="after")
    def _check_record(self) -> RecordSpec:
        names = [f.name for f in self.fields]
        doubles = sorted({n for n in names if names.count(n) > 1})
        if doubles:
            raise ValueError(f"field names used twice: {', '.join(doubles)}")
        if (self.role == "child") != bool(self.parent):
            raise ValueError("a child record needs a 'parent', and only a child has one")
        if self.count_field is not None:
            self._check_count_field()
        targets.RecordWriter({f.name: f.target_path() for f in self.fields})
        return self

    def _check_count_field(self) -> None:
        if self.role != "trailer":
            raise ValueError("only a trailer record has a 'count_field'")
        field = next((f for f in self.fields if f.name == self.count_field), None)
        if field is None or field.type != "integer":
            raise ValueError(f"count_field {self.count_field!r} must name an integer field")


class Layout(_Strict):
    """A whole layout dictionary; see the module doc."""

    format: Literal["delimited", "fixed_width"]
    encoding: str = "utf-8"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quote: str | None = Field(default='"', min_length=1, max_length=1)
    header: bool = False
    record_type: RecordTypeSpec | None = None
    fields: tuple[FieldSpec, ...] | None = None
    records: dict[str, RecordSpec] | None = None
    description: str | None = None

    @field_validator("records", mode="before")
    @classmethod
    def _codes_as_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(code): spec for code, spec in value.items()}
        return value

    @model_validator(mode="after")
    def _check_layout(self, info: ValidationInfo) -> Layout:
        if info.context and info.context.get(DEFER_CHECKS):
            return self
        problems = layout_checks.problems(self)
        if problems:
            raise ValueError("; ".join(f"{'.'.join(map(str, p))}: {m}" for p, m in problems))
        return self

    @property
    def multi_record(self) -> bool:
        return self.records is not None

    def record_specs(self) -> dict[str | None, RecordSpec]:
        """Record code -> layout; a single-record layout has the one code ``None``."""
        if self.records is not None:
            return {code: spec for code, spec in self.records.items()}
        return {None: RecordSpec(role="event", fields=self.fields or ())}
