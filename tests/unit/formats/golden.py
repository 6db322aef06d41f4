"""Golden files of the format decoders: run a fixture, turn the outcome into JSON.

A fixture ``tests/fixtures/formats/<format>/<name>.<ext>`` is decoded with the
options its folder's ``cases.yaml`` gives (``default`` for files not listed);
the outcome is compared with ``expected/<name>.json``. With
``TIDINGS_UPDATE_GOLDEN=1`` the expected file is written instead.

Outcome JSON: ``{"items": [...], "raised": null | error}``, each item either
``{"record": {"location", "kind", "data"}}`` or ``{"error": {...}, "raw": ...}``,
an error being ``{"reason", "location", "detail", "issues": [[location, detail]]}``.
Decimal and date values are tagged (``{"$decimal": "4.99"}``, ``{"$date": ...}``)
so that a change of type shows in the diff, not only a change of value.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from tidings.formats import (
    errors,
    flatfile,
    json_format,
    layout,
    layout_templates,
    layout_yaml,
    records,
    x12,
    xml_format,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "formats"
UPDATE = os.environ.get("TIDINGS_UPDATE_GOLDEN") == "1"
EXTENSIONS = {
    "json": (".json", ".ndjson"),
    "xml": (".xml",),
    "delimited": (".csv", ".tsv", ".psv"),
    "fixed_width": (".txt",),
    "x12": (".edi",),
}

Runner = Callable[[Path, dict[str, Any]], Iterable[records.Decoded]]


def fixtures() -> list[tuple[str, Path]]:
    """Every (format, fixture path), sorted."""
    found = []
    for fmt, exts in EXTENSIONS.items():
        folder = FIXTURES / fmt
        found += [(fmt, p) for p in sorted(folder.iterdir()) if p.suffix in exts and p.is_file()]
    return found


def options(fmt: str, path: Path) -> dict[str, Any]:
    cases_file = FIXTURES / fmt / "cases.yaml"
    cases = yaml.safe_load(cases_file.read_text()) if cases_file.exists() else {}
    return dict(cases.get(path.name, cases.get("default", {})))


def expected_path(path: Path) -> Path:
    return path.parent / "expected" / f"{path.stem}.json"


def outcome(fmt: str, path: Path) -> dict[str, Any]:
    """Decode one fixture and describe everything it gave, as plain JSON."""
    items: list[dict[str, Any]] = []
    raised = None
    try:
        for item in RUNNERS[fmt](path, options(fmt, path)):
            items.append(_item(item))
    except errors.DecodeError as exc:
        raised = _error(exc)
    return {"items": items, "raised": raised}


def compare_or_update(fmt: str, path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (actual, expected); write the expected file first when updating."""
    actual = json.loads(json.dumps(outcome(fmt, path)))
    target = expected_path(path)
    if UPDATE:
        target.parent.mkdir(exist_ok=True)
        target.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n")
    if not target.exists():
        raise AssertionError(f"{target} is missing: run with TIDINGS_UPDATE_GOLDEN=1 and review it")
    return actual, json.loads(target.read_text())


def _item(item: records.Decoded) -> dict[str, Any]:
    if isinstance(item, records.DecodedRecord):
        return {"record": {"location": item.location, "kind": item.kind,
                           "data": _tagged(item.data)}}
    raw = item.raw.decode("utf-8", "replace") if isinstance(item.raw, bytes) else item.raw
    return {"error": _error(item.error), "raw": raw}


def _error(exc: errors.DecodeError) -> dict[str, Any]:
    return {"reason": exc.reason.value, "location": exc.location, "detail": exc.detail,
            "issues": [[i.location, i.detail] for i in exc.issues]}


def _tagged(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _tagged(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tagged(v) for v in value]
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    return value


def _support(fmt: str, name: str | None) -> Path | None:
    if name is None:
        return None
    return FIXTURES / fmt / name


def _run_json(path: Path, opts: dict[str, Any]) -> Iterator[records.Decoded]:
    schema_path = _support("json", opts.get("schema"))
    schema = json.loads(schema_path.read_text()) if schema_path else None
    if opts.get("stream"):
        with path.open("rb") as lines:
            yield from json_format.decode_ndjson(lines, schema)
        return
    yield from json_format.decode_json(
        path.read_bytes(), schema, records_at=opts.get("records_at", ""),
        max_bytes=opts.get("max_bytes", json_format.MAX_DOCUMENT_BYTES))


def _run_xml(path: Path, opts: dict[str, Any]) -> Iterator[records.Decoded]:
    xsd_path = _support("xml", opts.get("xsd"))
    yield from xml_format.decode_xml(
        path.read_bytes(), opts["record_xpath"],
        xsd=xsd_path.read_bytes() if xsd_path else None,
        namespaces=opts.get("namespaces"), always_list=opts.get("always_list", ()),
        max_bytes=opts.get("max_bytes", 10_000_000))


def _run_flat(fmt: str) -> Runner:
    def run(path: Path, opts: dict[str, Any]) -> Iterator[records.Decoded]:
        lay = _layout(fmt, opts["layout"])
        with path.open("rb") as lines:
            yield from flatfile.decode_flat(lines, lay)

    return run


def _layout(fmt: str, name: str) -> layout.Layout:
    """A fixture's layout; "@template" is the fixed-width template the CLI prints."""
    if name == "@template":
        return layout_yaml.parse_layout(layout_templates.template_text("fixed_width"))
    return layout_yaml.load_layout(FIXTURES / fmt / name)


def _run_x12(path: Path, opts: dict[str, Any]) -> Iterator[records.Decoded]:
    yield from x12.decode_x12(path.read_bytes())


RUNNERS: dict[str, Runner] = {
    "json": _run_json,
    "xml": _run_xml,
    "delimited": _run_flat("delimited"),
    "fixed_width": _run_flat("fixed_width"),
    "x12": _run_x12,
}
