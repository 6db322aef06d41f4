"""A message type's decoder: its format, with its schema, XSD or layout loaded once.

``Decoder.for_type(project_root, message_type)`` reads what the message type
names (``schema``, ``xsd``, ``layout``, relative to the project folder) and
then decodes:

- ``decode_bytes(data)``: one queue message or object body, whole;
- ``decode_file(path)``: a file; flat files and NDJSON (``.ndjson``, ``.jsonl``)
  are streamed line by line, the other formats are read whole (each decoder
  refuses input over its own byte limit first).

For replay, ``envelope(data)`` returns what a dead letter of this input needs
besides its own raw record (an XML root, an X12 ISA/GS, a flat file's batch
header line), and ``decode_replay(payload, context)`` decodes one record again,
wrapped in that envelope, with the message type's *current* schema or layout.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from lxml import etree

from tidings.formats import (
    errors,
    flatfile,
    json_format,
    layout,
    layout_yaml,
    records,
    x12,
    xml_format,
    xml_guard,
)
from tidings.project.model import MessageTypeConfig

__all__ = ["Decoder", "DefinitionMissing"]

STREAMED_JSON_SUFFIXES = frozenset({".ndjson", ".jsonl"})
SPLIT_MARK = "TIDINGS-RECORD-GOES-HERE"
FLAT_FORMATS = frozenset({"delimited", "fixed_width"})
LINE_CHUNK_BYTES = 1 << 20


class DefinitionMissing(errors.DefinitionError):
    """The message type lacks what its format needs (a layout, a record XPath)."""


@dataclass(frozen=True)
class Decoder:
    mtype: MessageTypeConfig
    schema: dict[str, Any] | None
    xsd: bytes | None
    lay: layout.Layout | None

    @classmethod
    def for_type(cls, root: Path, mtype: MessageTypeConfig) -> Decoder:
        schema = orjson.loads((root / mtype.schema_).read_bytes()) if mtype.schema_ else None
        xsd = (root / mtype.xsd).read_bytes() if mtype.xsd else None
        lay = None
        if mtype.format in FLAT_FORMATS:
            if mtype.layout is None:
                raise DefinitionMissing(f"message type {mtype.name!r}: {mtype.format} needs "
                                        "a layout")
            lay = layout_yaml.load_layout(root / mtype.layout)
        if mtype.format == "xml" and not mtype.records_at:
            raise DefinitionMissing(f"message type {mtype.name!r}: xml needs records_at")
        return cls(mtype, schema, xsd, lay)

    @property
    def streams(self) -> bool:
        return self.mtype.format in FLAT_FORMATS

    def decode_bytes(self, data: bytes) -> Iterator[records.Decoded]:
        fmt = self.mtype.format
        if fmt == "json":
            return json_format.decode_json(data, self.schema, records_at=self.mtype.records_at
                                           or "")
        if fmt == "xml":
            return xml_format.decode_xml(data, self.mtype.records_at or "/*",
                                         xsd=self.xsd, namespaces=self.mtype.namespaces)
        if fmt == "x12":
            return x12.decode_x12(data)
        return self.decode_lines(data.splitlines(keepends=True))

    def decode_lines(self, lines: Iterable[bytes]) -> Iterator[records.Decoded]:
        if self.lay is not None:
            return flatfile.decode_flat(lines, self.lay)
        return json_format.decode_ndjson(lines, self.schema)

    def decode_file(self, path: Path) -> Iterator[records.Decoded]:
        if self.streams or (self.mtype.format == "json"
                            and path.suffix.lower() in STREAMED_JSON_SUFFIXES):
            return self._lines_of(path)
        return self.decode_bytes(path.read_bytes())

    def _lines_of(self, path: Path) -> Iterator[records.Decoded]:
        with path.open("rb", buffering=LINE_CHUNK_BYTES) as handle:
            yield from self.decode_lines(handle)

    # -- replay -----------------------------------------------------------------------

    def envelope(self, head: bytes) -> dict[str, Any] | None:
        """What replaying one record of the input that starts with ``head`` needs."""
        try:
            if self.mtype.format == "x12":
                return _x12_envelope(head)
            if self.mtype.format == "xml":
                return _xml_envelope(head)
            if self.lay is not None:
                return _flat_header(head, self.lay)
        except (errors.FormatError, ValueError, IndexError):
            return None
        return None

    def decode_replay(self, payload: bytes,
                      context: dict[str, Any] | None) -> Iterator[records.Decoded]:
        context = context or {}
        fmt = self.mtype.format
        if fmt == "x12" and "x12_head" in context:
            return x12.decode_x12(_x12_wrap(payload, context))
        if fmt == "xml":
            wrapped = payload
            if "xml_open" in context:
                wrapped = (context["xml_open"] + payload.decode("utf-8") + context["xml_close"]
                           ).encode("utf-8")
            return xml_format.decode_xml(wrapped, self.mtype.records_at or "/*/*",
                                         xsd=self.xsd, namespaces=self.mtype.namespaces)
        if self.lay is not None:
            header = [context["header"].encode("utf-8") + b"\n"] if "header" in context else []
            lines = header + payload.splitlines(keepends=True)
            return flatfile.decode_flat(lines, _without_trailer(self.lay))
        return self.decode_bytes(payload)


def _x12_envelope(head: bytes) -> dict[str, Any]:
    text = head.decode("ascii", "replace").lstrip()
    if not text.startswith("ISA") or len(text) < 106:
        raise ValueError("no ISA")
    element, terminator = text[3], text[105]
    isa = text[:105]
    rest = text[106:].lstrip("\r\n")
    gs = rest.split(terminator, 1)[0]
    if not gs.startswith("GS"):
        raise ValueError("no GS")
    return {"x12_head": isa + terminator + gs + terminator, "element": element,
            "terminator": terminator, "isa13": isa.split(element)[13],
            "gs06": gs.split(element)[6]}


def _x12_wrap(payload: bytes, context: dict[str, Any]) -> bytes:
    term, el = context["terminator"], context["element"]
    body = term.join(line for line in payload.decode("ascii", "replace").splitlines()
                     if line.strip())
    tail = f"GE{el}1{el}{context['gs06']}{term}IEA{el}1{el}{context['isa13']}{term}"
    text: str = context["x12_head"] + body + term + tail
    return text.encode("ascii", "replace")


def _xml_envelope(head: bytes) -> dict[str, Any]:
    root = xml_guard.parse_untrusted(head).getroot()
    shallow = etree.Element(root.tag, dict(root.attrib), nsmap=root.nsmap)
    shallow.text = SPLIT_MARK
    opening, closing = etree.tostring(shallow, encoding="unicode").split(SPLIT_MARK)
    return {"xml_open": opening, "xml_close": closing}


def _flat_header(head: bytes, lay: layout.Layout) -> dict[str, Any] | None:
    specs = lay.record_specs()
    codes = {code for code, spec in specs.items() if spec.role == "header"}
    if not codes:
        return None
    for parsed in flatfile.parse_flat(head.splitlines(keepends=True)[:50], lay):
        if parsed.code in codes:
            return {"header": parsed.raw}
    return None


def _without_trailer(lay: layout.Layout) -> layout.Layout:
    if lay.records is None:
        return lay
    kept = {code: spec for code, spec in lay.records.items() if spec.role != "trailer"}
    return lay.model_copy(update={"records": kept})
