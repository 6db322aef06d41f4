"""Administration commands: API keys and messages."""

from __future__ import annotations

import json

import click

from tidings.cli_options import env_option, root_context, tenant_option

__all__ = ["keys", "messages"]


@click.group()
def keys() -> None:
    """API keys per tenant (stored hashed; shown once)."""


@keys.command("create")
@tenant_option
@env_option("--label", envvar="TIDINGS_KEY_LABEL", default="", help="What the key is for.")
def keys_create(tenant: str, label: str) -> None:
    """Create a key and print it (the only time it is shown)."""
    runtime = root_context().runtime()
    if tenant not in {t.id for t in runtime.project.config.tenants}:
        raise click.ClickException(f"unknown tenant {tenant!r}")
    click.echo(runtime.keys.create(tenant, label, runtime.clock.now()))


@keys.command("list")
@env_option("--tenant", "-t", envvar="TIDINGS_TENANT", default=None, help="Tenant id.")
def keys_list(tenant: str | None) -> None:
    """List keys (prefixes only)."""
    for row in root_context().runtime().keys.list(tenant):
        revoked = f" revoked {row['revoked_at']:%Y-%m-%d}" if row["revoked_at"] else ""
        click.echo(f"{row['tenant']}\ttdg_{row['prefix']}_…\t{row['label']}{revoked}")


@keys.command("revoke")
@click.argument("prefix")
def keys_revoke(prefix: str) -> None:
    """Revoke the key with this prefix."""
    runtime = root_context().runtime()
    if not runtime.keys.revoke(prefix.removeprefix("tdg_").split("_")[0], runtime.clock.now()):
        raise click.ClickException("no active key with that prefix")
    click.echo("revoked")


@click.group()
def messages() -> None:
    """The message queue: list, show, cancel, hold, release, requeue."""


@messages.command("list")
@tenant_option
@env_option("--state", envvar="TIDINGS_STATE", default=None)
@env_option("--recipient", envvar="TIDINGS_RECIPIENT", default=None)
@env_option("--limit", envvar="TIDINGS_LIMIT", default=50, type=int, show_default=True)
def messages_list(tenant: str, state: str | None, recipient: str | None, limit: int) -> None:
    """List messages, newest first."""
    outbox = root_context().runtime().outbox
    rows = outbox.list(tenant, state=state, recipient=recipient, limit=limit)
    for r in rows:
        click.echo(f"{r['id']}\t{r['state']}\t{r['provider']}\t{r['recipient']}\t{r['subject']}")
    if not rows:
        click.echo("no messages")


@messages.command("show")
@click.argument("message_id", type=int)
@tenant_option
@env_option("--raw", envvar="TIDINGS_RAW", is_flag=True,
            help="Print the message as the capture provider stored it.")
def messages_show(message_id: int, tenant: str, raw: bool) -> None:
    """Show one message with its timeline (or its raw MIME with --raw)."""
    from sqlalchemy import select

    from tidings.storage import tables
    from tidings.storage.outbox_sql import MessageNotFound
    runtime = root_context().runtime()
    try:
        message = runtime.outbox.get(tenant, message_id)
    except MessageNotFound as exc:
        raise click.ClickException(f"no message {message_id} for tenant {tenant}") from exc
    if raw:
        with runtime.engine.connect() as conn:
            data = conn.execute(select(tables.captures.c.raw).where(
                tables.captures.c.message_id == message_id)).scalar()
        if data is None:
            raise click.ClickException("no captured copy (not sent by a capture provider yet)")
        click.echo(data.decode("utf-8", "replace"))
        return
    click.echo(json.dumps(message, indent=2, default=str))


def _action(name: str, target: str) -> None:
    @messages.command(name)
    @click.argument("message_id", type=int)
    @tenant_option
    def command(message_id: int, tenant: str) -> None:
        from tidings.domain.states import State
        from tidings.storage.outbox_sql import IllegalTransition, MessageNotFound
        runtime = root_context().runtime()
        try:
            state = runtime.outbox.move(tenant, message_id, State(target), runtime.clock.now(),
                                        "cli", name)
        except MessageNotFound as exc:
            raise click.ClickException(f"no message {message_id} for tenant {tenant}") from exc
        except IllegalTransition as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{message_id}\t{state.value}")

    command.__doc__ = f"{name.capitalize()} a message."


for _name, _target in (("cancel", "cancelled"), ("hold", "held"), ("release", "queued"),
                       ("requeue", "queued")):
    _action(_name, _target)
