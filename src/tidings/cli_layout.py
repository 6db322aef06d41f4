"""``tidings layout``: write and try layout dictionaries of flat files.

- ``layout template [--format fixed_width|delimited]`` prints a documented
  example dictionary of a multi-record order file (header, orders, lines,
  trailer) to start from.
- ``layout check FILE --layout L`` reads FILE with the layout L and reports,
  line by line, what each record gives (target=value) or its error, then
  each event (or why it was refused) and a summary. Exit status: 0 when
  everything decoded, 1 when some record or event was refused, 2 when the
  layout itself is invalid (each problem with its YAML line).

Every option may also come from the environment variable ``--help`` names.
Mount with ``main.add_command(cli_layout.layout)``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from tidings.cli_options import env_option
from tidings.formats import (
    assembly,
    errors,
    flat_records,
    flatfile,
    layout_templates,
    layout_yaml,
    records,
)
from tidings.formats import layout as layout_mod

__all__ = ["layout"]

EXIT_REFUSED = 1
EXIT_BAD_LAYOUT = 2


@click.group("layout")
def layout() -> None:
    """Layout dictionaries of delimited and fixed-width files."""


@layout.command("template")
@env_option("--format", "kind", envvar="TIDINGS_LAYOUT_TEMPLATE_FORMAT", default="fixed_width",
            show_default=True, type=click.Choice(sorted(layout_templates.TEMPLATES)),
            help="Which kind of file the example describes.")
def template(kind: str) -> None:
    """Print a documented example layout of a multi-record order file."""
    click.echo(layout_templates.template_text(kind), nl=False)


@layout.command("check")
@click.argument("file", envvar="TIDINGS_LAYOUT_CHECK_FILE",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@env_option("--layout", "layout_path", envvar="TIDINGS_LAYOUT", required=True,
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="The layout dictionary (YAML) to read FILE with.")
@env_option("--output", envvar="TIDINGS_LAYOUT_OUTPUT", default="text", show_default=True,
            type=click.Choice(["text", "json"]),
            help="text for people, json for one JSON object per line.")
@env_option("--errors-only", is_flag=True, envvar="TIDINGS_LAYOUT_ERRORS_ONLY", default=False,
            help="Report only refused records and events, then the summary.")
def check(file: Path, layout_path: Path, output: str, errors_only: bool) -> None:
    """Read FILE with a layout and report what every record gives."""
    try:
        lay = layout_yaml.load_layout(layout_path)
    except errors.LayoutError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(EXIT_BAD_LAYOUT) from exc
    report = _Report(lay, output == "json", errors_only)
    with file.open("rb") as lines:
        try:
            for item in assembly.assemble(report.passing(flatfile.parse_flat(lines, lay)), lay):
                report.event(item)
        except errors.DecodeError as exc:
            report.fatal(exc)
    report.summary()
    if not report.clean:
        raise SystemExit(EXIT_REFUSED)


@dataclass
class _Report:
    lay: layout_mod.Layout
    as_json: bool
    errors_only: bool
    records_ok: int = 0
    records_bad: int = 0
    events_ok: int = 0
    events_bad: int = 0
    failed: bool = False

    @property
    def clean(self) -> bool:
        return not (self.records_bad or self.events_bad or self.failed)

    def passing(self, parsed: Iterator[flat_records.ParsedRecord],
                ) -> Iterator[flat_records.ParsedRecord]:
        """Report each record as it passes on its way to the assembler."""
        for record in parsed:
            if record.error is None:
                self.records_ok += 1
            else:
                self.records_bad += 1
            if record.error is not None or not self.errors_only:
                self._record(record)
            yield record

    def _record(self, record: flat_records.ParsedRecord) -> None:
        code = record.code or "-"
        if self.as_json:
            gives = None if record.error else self._gives(record)
            self._json({"record": record.number, "line": record.line, "type": record.code,
                        "gives": gives, "error": _error(record.error)})
        elif record.error is not None:
            click.echo(f"line {record.line:<6} {code:<5} ERROR {_text(record.error)}")
        else:
            pairs = " ".join(f"{k}={_value(v)}" for k, v in self._gives(record).items())
            click.echo(f"line {record.line:<6} {code:<5} {pairs}")

    def _gives(self, record: flat_records.ParsedRecord) -> dict[str, Any]:
        spec = self.lay.record_specs().get(record.code)
        names = {f.name: f.target or f.name for f in spec.fields} if spec else {}
        return {names.get(k, k): records.jsonable(v) for k, v in record.values.items()}

    def event(self, item: records.Decoded) -> None:
        if isinstance(item, records.DecodedRecord):
            self.events_ok += 1
            if not self.errors_only:
                self._emit_event("ok", item.location, None)
        else:
            self.events_bad += 1
            self._emit_event("refused", item.location, item.error)

    def _emit_event(self, status: str, location: str, error: errors.DecodeError | None) -> None:
        if self.as_json:
            self._json({"event": status, "location": location, "error": _error(error)})
        else:
            click.echo(f"event {status}: {_text(error) if error is not None else location}")

    def fatal(self, exc: errors.DecodeError) -> None:
        self.failed = True
        if self.as_json:
            self._json({"fatal": _error(exc)})
        else:
            click.echo(f"FATAL {_text(exc)}")

    def summary(self) -> None:
        counts = {"records_ok": self.records_ok, "records_refused": self.records_bad,
                  "events_ok": self.events_ok, "events_refused": self.events_bad}
        if self.as_json:
            self._json({"summary": counts, "clean": self.clean})
            return
        click.echo(f"records: {self.records_ok} ok, {self.records_bad} refused; "
                   f"events: {self.events_ok} ok, {self.events_bad} refused"
                   + ("" if not self.failed else "; stopped by a fatal error"))

    def _json(self, obj: dict[str, Any]) -> None:
        click.echo(json.dumps(obj, ensure_ascii=False))


def _error(exc: errors.DecodeError | None) -> dict[str, Any] | None:
    if exc is None:
        return None
    return {"reason": exc.reason.value, "location": exc.location, "detail": exc.detail,
            "issues": [[i.location, i.detail] for i in exc.issues]}


def _text(exc: errors.DecodeError) -> str:
    lines = [f"{exc.reason.value} at {exc.location}: {exc.detail}"]
    lines += [f"    {i.location}: {i.detail}" for i in exc.issues[1:]]
    return "\n".join(lines)


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
