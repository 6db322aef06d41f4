"""``tidings sla``: party keys, rule books, timers, the digest scheduler, exceptions.

Every option may also come from the environment variable ``--help`` names.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import tomllib
from pathlib import Path
from typing import Any

import click

from tidings.cli_options import env_option, tenant_option

__all__ = ["sla"]


def _runtime() -> Any:
    return click.get_current_context().find_root().obj.runtime()


@click.group()
def sla() -> None:
    """SLA tracking: party keys, retailers' rules, timers, digests, exceptions."""


# -- party keys -------------------------------------------------------------------------

@sla.group("keys")
def keys() -> None:
    """API keys bound to one retailer or supplier (stored hashed; shown once)."""


@keys.command("create")
@tenant_option
@env_option("--retailer", envvar="TIDINGS_SLA_RETAILER", default=None, help="Retailer id.")
@env_option("--supplier", envvar="TIDINGS_SLA_SUPPLIER", default=None, help="Supplier id.")
@env_option("--label", envvar="TIDINGS_KEY_LABEL", default="", help="What the key is for.")
def keys_create(tenant: str, retailer: str | None, supplier: str | None, label: str) -> None:
    """Create a party key and print it (the only time it is shown)."""
    from tidings.sla.parties import PartyKind
    if (retailer is None) == (supplier is None):
        raise click.ClickException("give exactly one of --retailer and --supplier")
    runtime = _runtime()
    kind = PartyKind.RETAILER if retailer else PartyKind.SUPPLIER
    party = retailer or supplier
    assert party is not None
    click.echo(runtime.sla.service.create_party_key(tenant, kind, party, label))


@keys.command("list")
@env_option("--tenant", "-t", envvar="TIDINGS_TENANT", default=None, help="Tenant id.")
def keys_list(tenant: str | None) -> None:
    """List party keys (prefixes only)."""
    for row in _runtime().sla.service.keys.list(tenant):
        revoked = f" revoked {row['revoked_at']:%Y-%m-%d}" if row["revoked_at"] else ""
        click.echo(f"{row['tenant']}\t{row['party_kind']}:{row['party']}\t"
                   f"tdp_{row['prefix']}_…\t{row['label']}{revoked}")


@keys.command("revoke")
@click.argument("prefix")
def keys_revoke(prefix: str) -> None:
    """Revoke the party key with this prefix."""
    runtime = _runtime()
    if not runtime.sla.service.keys.revoke(prefix.removeprefix("tdp_").split("_")[0],
                                           runtime.clock.now()):
        raise click.ClickException("no active party key with that prefix")
    click.echo("revoked")


# -- rule books -------------------------------------------------------------------------

@sla.group("rules")
def rules() -> None:
    """Retailers' calendars and SLA rules (kept in the database)."""


@rules.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@tenant_option
def rules_load(path: Path, tenant: str) -> None:
    """Load [[retailers]] (id, name, calendar, [[retailers.rules]]) from a TOML file.

    Each calendar and rule is written and the retailer's open deadlines re-evaluated.
    """
    from tidings.sla import rulebook
    from tidings.sla.parties import Viewer
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc
    service, viewer = _runtime().sla.service, Viewer.operator(tenant)
    try:
        for retailer in doc.get("retailers", []):
            rid = retailer["id"]
            service.put_calendar(viewer, rid, retailer.get("calendar", {}), retailer.get("name"))
            for rule in retailer.get("rules", []):
                rule = dict(rule)
                result = service.put_rule(viewer, rid, rule.pop("id"), rule)
                click.echo(f"{rid}/{result['id']}: {result['reevaluated']}")
    except (KeyError, rulebook.RuleBookError) as exc:
        raise click.ClickException(f"{path}: {exc}") from exc


@rules.command("show")
@click.argument("retailer")
@tenant_option
def rules_show(retailer: str, tenant: str) -> None:
    """Print a retailer's calendar and rules as JSON."""
    from tidings.sla.parties import NotFound, Viewer
    try:
        book = _runtime().sla.service.rule_book(Viewer.operator(tenant), retailer)
    except NotFound as exc:
        raise click.ClickException(f"no rule book for {retailer!r}") from exc
    click.echo(json.dumps(book, indent=2, default=str))


# -- timers, scheduler, exceptions ------------------------------------------------------

@sla.command("tick")
def tick() -> None:
    """Fire due deadline timers and digest slots once, delivering digests right away."""
    runtime = _runtime()
    runtime.sla.run_jobs_immediately()
    fired = runtime.sla.timers.drain()
    runs = runtime.sla.scheduler.tick()
    click.echo(f"warnings {fired.warnings}, overdue {fired.overdue}, digests {len(runs)}")


@sla.command("scheduler")
def scheduler() -> None:
    """Run the deadline timers, the digest scheduler and digest jobs until stopped.

    Run as many as you like: timers are claimed with SKIP LOCKED and each digest slot has a
    fire-once row.
    """
    runtime = _runtime()
    stop = threading.Event()
    threads = [threading.Thread(target=loop, args=(stop,), name=name, daemon=True)
               for name, loop in runtime.sla.loops()]
    for thread in threads:
        thread.start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    click.echo("sla scheduler running; Ctrl-C stops it")
    stop.wait()
    for thread in threads:
        thread.join(30)
    runtime.close()


@sla.command("exceptions")
@tenant_option
@env_option("--supplier", envvar="TIDINGS_SLA_SUPPLIER", default=None, help="Supplier id.")
@env_option("--retailer", envvar="TIDINGS_SLA_RETAILER", default=None, help="Retailer id.")
@env_option("--status", envvar="TIDINGS_SLA_STATUS", default="open", show_default=True,
            help="open | resolved | escalated | cancelled | all")
@env_option("--limit", envvar="TIDINGS_SLA_LIMIT", default=50, show_default=True,
            type=click.IntRange(1, 100_000))
def exceptions(tenant: str, supplier: str | None, retailer: str | None, status: str,
               limit: int) -> None:
    """Print order exceptions as CSV, most late first."""
    from tidings.sla.exceptions import ExceptionQuery, QueryError
    from tidings.sla.parties import Viewer
    try:
        query = ExceptionQuery(retailer=retailer, supplier=supplier, status=status, limit=limit)
    except QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in _runtime().sla.service.export(Viewer.operator(tenant), query):
        sys.stdout.write(line)
