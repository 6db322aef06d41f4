"""Cutting an X12 interchange into segments, with the separators its ISA declares.

The ISA segment is fixed width (106 characters with its terminator), so it
tells the separators before anything else is read:

| separator    | where                         | usual  |
|--------------|-------------------------------|--------|
| element      | the character after ``ISA``   | ``*``  |
| repetition   | ISA11, from version 00402 on  | ``^``  |
| component    | ISA16                         | ``>``  |
| segment      | the character after ISA16     | ``~``  |

Line breaks after a segment terminator are ignored. Elements are kept as
text; ``Segment.components(n)`` splits one by the component separator and
``Segment.repetitions(n)`` by the repetition separator.
Every failure here concerns the whole input and raises ``DecodeError``:
``encoding`` (not UTF-8), ``malformed`` (no ISA, a short or inconsistent ISA,
a segment id that is not one, an unterminated last segment).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tidings.formats import errors

__all__ = ["ISA_LENGTH", "Segment", "Separators", "read_separators", "tokenize"]

ISA_LENGTH = 106
ISA_ELEMENTS = 16
REPETITION_FROM_VERSION = "00402"
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
R = errors.ReasonCode


@dataclass(frozen=True, slots=True)
class Separators:
    element: str
    component: str
    segment: str
    repetition: str | None


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment: its 1-based position in the input, its id and its elements."""

    index: int
    tag: str
    elements: tuple[str, ...]
    text: str
    component_separator: str = ">"
    repetition_separator: str | None = None

    @property
    def location(self) -> str:
        return f"segment {self.index} ({self.tag})"

    def get(self, position: int) -> str:
        """Element ``position`` (1-based, as in ``BEG03``), "" when absent."""
        return self.elements[position - 1] if position <= len(self.elements) else ""

    def components(self, position: int) -> list[str]:
        return self.get(position).split(self.component_separator)

    def repetitions(self, position: int) -> list[str]:
        """The repeats of element ``position`` (00402 and later); one item before that."""
        value = self.get(position)
        return value.split(self.repetition_separator) if self.repetition_separator else [value]


def read_separators(text: str) -> Separators:
    """Read the separators from the ISA segment at the start of ``text``."""
    if not text.startswith("ISA"):
        raise errors.DecodeError(R.MALFORMED, "segment 1", "an interchange starts with ISA")
    if len(text) < ISA_LENGTH:
        raise errors.DecodeError(R.MALFORMED, "segment 1 (ISA)",
                                 f"the ISA needs {ISA_LENGTH} characters, got {len(text)}")
    element = text[3]
    parts = text[: ISA_LENGTH - 1].split(element)
    if len(parts) != ISA_ELEMENTS + 1 or len(parts[ISA_ELEMENTS]) != 1:
        raise errors.DecodeError(
            R.MALFORMED, "segment 1 (ISA)",
            f"the ISA does not have {ISA_ELEMENTS} fixed-width elements separated by "
            f"{element!r}: wrong separators or a padded field")
    component, segment = parts[ISA_ELEMENTS], text[ISA_LENGTH - 1]
    repetition = parts[11] if parts[12] >= REPETITION_FROM_VERSION else None
    found = [element, component, segment] + ([repetition] if repetition else [])
    if len(set(found)) != len(found) or any(ch.isalnum() for ch in found):
        raise errors.DecodeError(R.MALFORMED, "segment 1 (ISA)",
                                 f"separators must differ and not be letters or digits: {found}")
    return Separators(element, component, segment, repetition)


def tokenize(data: bytes) -> list[Segment]:
    """Every segment of ``data``, in order; DecodeError for any whole-input problem."""
    try:
        text = data.decode("utf-8").lstrip()
    except UnicodeDecodeError as exc:
        raise _encoding_error(data, exc) from exc
    seps = read_separators(text)
    pieces = text.split(seps.segment)
    if pieces[-1].strip():
        raise errors.DecodeError(
            R.MALFORMED, f"segment {len(pieces)}",
            f"the input ends inside a segment not closed by {seps.segment!r}: truncated?")
    segments = []
    for index, piece in enumerate((p.strip("\r\n") for p in pieces[:-1]), start=1):
        tag, *elements = piece.split(seps.element)
        if not _SEGMENT_ID.fullmatch(tag):
            raise errors.DecodeError(
                R.MALFORMED, f"segment {index}",
                f"{tag[:20]!r} is not a segment id (element separator {seps.element!r})")
        segments.append(Segment(index, tag, tuple(elements), piece, seps.component,
                                seps.repetition))
    return segments


def _encoding_error(data: bytes, exc: UnicodeDecodeError) -> errors.DecodeError:
    """Name the segment holding the bad byte (the ISA itself is plain ASCII)."""
    before = data[: exc.start].decode("utf-8").lstrip()
    terminator = before[ISA_LENGTH - 1] if len(before) >= ISA_LENGTH else None
    where = f"segment {before.count(terminator) + 1} " if terminator else ""
    return errors.DecodeError(R.ENCODING, f"{where}byte {exc.start + 1}",
                              f"not valid UTF-8: {exc.reason}")
