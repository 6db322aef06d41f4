"""``tidings sources`` and ``tidings dlq list|show|replay``.

- ``sources``: every configured source with its last run, counts, last error
  and next run (from the status rows the running sources write).
- ``dlq list [--tenant] [--source] [--reason] [--status] [--limit]``: dead
  letters, newest first.
- ``dlq show ID``: one dead letter with its payload.
- ``dlq replay ID [--payload FILE]``: decode it again with the message type's
  current layout or schema (or decode FILE instead of the stored payload) and
  commit it, once. Exit status 1 when it is refused again.

Every option may also come from the environment variable ``--help`` names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tidings.cli_options import env_option

__all__ = ["dlq", "sources"]


def _runtime() -> Any:
    return click.get_current_context().find_root().obj.runtime()


@click.command("sources")
@env_option("--json", "as_json", envvar="TIDINGS_SOURCES_JSON", is_flag=True,
            help="Print one JSON document.")
def sources(as_json: bool) -> None:
    """Each source: type, tenant, last run, counts, last error, next run."""
    from tidings.ingest.sources.status import SqlSourceStatus
    runtime = _runtime()
    rows = {row.name: row.as_json() for row in SqlSourceStatus(runtime.engine).list()}
    for cfg in runtime.project.config.sources:
        rows.setdefault(cfg.name, {"name": cfg.name, "type": cfg.type, "tenant": cfg.tenant,
                                   "runs": 0})
    if as_json:
        click.echo(json.dumps({"sources": [rows[k] for k in sorted(rows)]}, indent=2))
        return
    if not rows:
        click.echo("no sources configured")
    for name in sorted(rows):
        click.echo(_source_line(rows[name]))


def _source_line(row: dict[str, Any]) -> str:
    counts = (f"accepted={row.get('accepted', 0)} duplicates={row.get('duplicates', 0)} "
              f"dead_lettered={row.get('dead_lettered', 0)}")
    error = f"\n    last error ({row['last_error_at']}): {row['last_error']}" \
        if row.get("last_error") else ""
    return (f"{row['name']}\t{row['type']}\ttenant={row.get('tenant') or '-'}\t"
            f"runs={row.get('runs', 0)}\tlast_run={row.get('last_run_at') or 'never'}\t"
            f"next_run={row.get('next_run_at') or '-'}\t{counts}{error}")


@click.group("dlq")
def dlq() -> None:
    """Dead letters: records that could not be decoded, validated or routed."""


@dlq.command("list")
@env_option("--tenant", "-t", envvar="TIDINGS_TENANT", default=None, help="Tenant id.")
@env_option("--source", envvar="TIDINGS_DLQ_SOURCE", default=None, help="Source name.")
@env_option("--reason", envvar="TIDINGS_DLQ_REASON", default=None, help="Reason code.")
@env_option("--status", envvar="TIDINGS_DLQ_STATUS", default="open", show_default=True,
            type=click.Choice(["open", "replayed", "all"]))
@env_option("--limit", envvar="TIDINGS_DLQ_LIMIT", default=50, show_default=True,
            type=click.IntRange(1, 10_000))
def dlq_list(tenant: str | None, source: str | None, reason: str | None, status: str,
             limit: int) -> None:
    """List dead letters, newest first."""
    from tidings.ingest.deadletters import SqlDeadLetters
    rows = SqlDeadLetters(_runtime().engine).list(
        tenant, source=source, reason=reason, status=None if status == "all" else status,
        limit=limit)
    for row in rows:
        click.echo(f"{row.id}\t{row.created_at:%Y-%m-%d %H:%M:%S}\t{row.status}\t"
                   f"{row.tenant or '-'}\t{row.source}\t{row.reason}\t{row.location}\t"
                   f"attempts={row.attempts}\t{row.detail[:120]}")
    if not rows:
        click.echo("no dead letters")


@dlq.command("show")
@click.argument("letter_id", type=int)
def dlq_show(letter_id: int) -> None:
    """Show one dead letter with its payload."""
    from tidings.ingest.deadletters import SqlDeadLetters
    letter = SqlDeadLetters(_runtime().engine).get(letter_id)
    if letter is None:
        raise click.ClickException(f"no dead letter {letter_id}")
    click.echo(json.dumps(letter.as_json(with_payload=True), indent=2, ensure_ascii=False))


@dlq.command("replay")
@click.argument("letter_id", type=int)
@env_option("--payload", envvar="TIDINGS_DLQ_PAYLOAD", default=None,
            type=click.Path(dir_okay=False, exists=True, path_type=Path),
            help="A corrected payload to decode instead of the stored one.")
def dlq_replay(letter_id: int, payload: Path | None) -> None:
    """Decode and commit a dead letter again, once (after fixing its layout or payload)."""
    from tidings.ingest.pipeline import AlreadyReplayed
    from tidings.ingest.sources.runner import pipeline_of
    pipeline = pipeline_of(_runtime())
    try:
        outcome = pipeline.replay(letter_id, None,
                                  payload.read_bytes() if payload is not None else None)
    except (AlreadyReplayed, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    if outcome.status == "dead_letter":
        click.echo(f"refused again: {outcome.reason} at {outcome.location}: {outcome.detail}")
        raise SystemExit(1)
    click.echo(f"{outcome.status}: event {outcome.event_id}")
