"""Why a decoder refused its input, as one closed set of reasons.

The exception tree::

    FormatError                 base of everything raised by tidings.formats
    ├── DecodeError             the *input* is bad: reason, location, detail, issues
    └── DefinitionError         what the operator handed in (JSON Schema, XSD, layout) is bad
        └── LayoutError         a layout dictionary, with the YAML line of each problem

``DecodeError`` is raised for a whole-input failure (unparseable XML, an X12
interchange whose ISA cannot be read) and carried inside a ``RecordError`` for
one bad record, so that the good records around it still come through.

``ReasonCode`` is closed: dead letters, metrics and reports key on it, so a new
reason is a change of contract, not a detail of one decoder.

| reason             | meaning                                                               |
|--------------------|-----------------------------------------------------------------------|
| `malformed`        | cannot be parsed at all (bad JSON/XML syntax, short line, bad segment) |
| `schema_violation` | parsed, but breaks a JSON Schema, XSD, layout or X12 structure rule    |
| `unsafe_xml`       | DTD, entity declaration, XXE, or a parser limit (huge tree) was hit    |
| `too_large`        | the input (or one line of it) is over the byte limit                    |
| `encoding`         | the bytes are not valid in the declared encoding                       |
| `missing_field`    | a required field or element is absent or empty                         |
| `bad_value`        | a value has the wrong type, format, or is not among the allowed ones   |
| `unknown_record`   | a record type (or X12 transaction set) the layout does not describe    |
| `envelope`         | control totals disagree: X12 ISA/IEA, GS/GE, ST/SE, CTT; a flat file's |
|                    | trailer record count, or its missing trailer                           |
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "DecodeError",
    "DefinitionError",
    "FormatError",
    "Issue",
    "LayoutError",
    "ReasonCode",
]


class ReasonCode(StrEnum):
    """The closed list of reasons a decoder refuses input (see the module table)."""

    MALFORMED = "malformed"
    SCHEMA_VIOLATION = "schema_violation"
    UNSAFE_XML = "unsafe_xml"
    TOO_LARGE = "too_large"
    ENCODING = "encoding"
    MISSING_FIELD = "missing_field"
    BAD_VALUE = "bad_value"
    UNKNOWN_RECORD = "unknown_record"
    ENVELOPE = "envelope"


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding inside a record: where (JSON pointer, XPath, field) and what."""

    location: str
    detail: str


class FormatError(Exception):
    """Base of every error raised by ``tidings.formats``."""


class DecodeError(FormatError):
    """The input could not be decoded.

    ``location`` names the place in the input ("line 12", "/orders/0",
    "segment 14 (PO1)"); ``detail`` says what is wrong in one line; ``issues``
    lists every finding when there were several (all JSON Schema errors of a
    record, every bad field of a line), the first of which is ``detail``.
    """

    def __init__(self, reason: ReasonCode, location: str, detail: str,
                 issues: tuple[Issue, ...] = ()) -> None:
        super().__init__(f"{reason.value} at {location}: {detail}")
        self.reason = reason
        self.location = location
        self.detail = detail
        self.issues = issues

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.reason, self.location, self.detail, self.issues))


class DefinitionError(FormatError):
    """A JSON Schema, XSD or layout handed to a decoder is itself invalid."""


class LayoutError(DefinitionError):
    """A layout dictionary is invalid; ``problems`` holds (YAML line, message) pairs.

    The line is 1-based, or ``None`` when the problem has no place in the file
    (the file is empty, or a cross-field rule spans several places).
    """

    def __init__(self, source: str, problems: list[tuple[int | None, str]]) -> None:
        lines = [f"{source}:{line}: {msg}" if line else f"{source}: {msg}"
                 for line, msg in problems]
        super().__init__("invalid layout dictionary\n" + "\n".join(lines))
        self.source = source
        self.problems = problems
