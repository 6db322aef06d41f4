"""Operator commands: channels, providers, communication channels, status tables, sync,
and ``messages add``.

Changes made here are operator edits (origin ``operator``); ``tidings sync``
writes the project file's objects and leaves operator edits alone unless
``--reset`` is given. Times are HH:MM:SS, UTC. Every option can also come from
the environment variable ``--help`` names.
"""

from __future__ import annotations

import base64
import json
import mimetypes
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from tidings.cli_options import env_option

__all__ = ["channels", "communication_channels", "messages_add", "providers", "sync"]


def _runtime() -> Any:
    return click.get_current_context().find_root().obj.runtime()


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    from tidings.channels import service
    try:
        return fn(*args)
    except service.Invalid as exc:
        raise click.ClickException("; ".join(f"{p}: {d}" for p, d in exc.errors)) from exc
    except service.ChannelError as exc:
        raise click.ClickException(str(exc)) from exc


def _show(runtime: Any, kind: str, config: Any) -> None:
    from tidings.channels import public
    origin = runtime.channels.catalog().origin(kind, config.name)
    click.echo(json.dumps(public.public(config, origin), indent=2))


def _given(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != ()}


# -- sync ---------------------------------------------------------------------------------


@click.command()
@env_option("--reset", envvar="TIDINGS_SYNC_RESET", is_flag=True,
            help="Also overwrite objects an operator changed with the project file's version.")
def sync(reset: bool) -> None:
    """Write the project file's channels, providers and status tables into the database."""
    report = _runtime().channels.sync(reset=reset)
    for label, items in (("created", report.created), ("updated", report.updated),
                         ("removed", report.removed), ("kept", report.kept)):
        for item in items:
            click.echo(f"{label}\t{item}")
    if not (report.changed or report.kept):
        click.echo("the database already matches the project")


# -- channels -----------------------------------------------------------------------------


@click.group()
def channels() -> None:
    """Channel configurations: a name, a unique whole-number code and a kind."""


@channels.command("list")
def channels_list() -> None:
    """List channel configurations."""
    for c in _runtime().channels.objects("channel"):
        click.echo(f"{c.name}\t{c.code}\t{c.kind}")


def _channel_options(fn: Any, required: bool) -> Any:
    fn = env_option("--code", envvar="TIDINGS_CHANNEL_CODE", type=int, required=required,
                    default=None, help="Unique whole number.")(fn)
    return env_option("--kind", envvar="TIDINGS_CHANNEL_KIND", required=required, default=None,
                      type=click.Choice(["email", "sms", "push", "print"]))(fn)


@channels.command("add")
@click.argument("name")
@lambda fn: _channel_options(fn, True)
def channels_add(name: str, code: int, kind: str) -> None:
    """Create a channel configuration."""
    runtime = _runtime()
    _show(runtime, "channel", _call(runtime.channels.create, "channel",
                                    {"name": name, "code": code, "kind": kind}))


@channels.command("set")
@click.argument("name")
@lambda fn: _channel_options(fn, False)
def channels_set(name: str, code: int | None, kind: str | None) -> None:
    """Change a channel configuration."""
    runtime = _runtime()
    _show(runtime, "channel", _call(runtime.channels.update, "channel", name,
                                    _given({"code": code, "kind": kind})))


@channels.command("remove")
@click.argument("name")
def channels_remove(name: str) -> None:
    """Delete a channel configuration (refused while providers use it)."""
    _call(_runtime().channels.delete, "channel", name)
    click.echo(f"removed channel {name}")


# -- providers ----------------------------------------------------------------------------

_PROVIDER_OPTIONS: list[tuple[str, str, Any, str]] = [
    ("--channel", "channel", str, "Channel name."),
    ("--type", "type", str, "Provider type (capture, smtp, ses, twilio, ...)."),
    ("--service-url", "service_url", str, "Service URL (smtp://host:587, https://...)."),
    ("--user", "user", str, "User name at the service."),
    ("--secret-env", "secret_env", str,
     "NAME of the environment variable holding the password or key (never the secret)."),
    ("--from-address", "from_address", str, "From address or sender id."),
    ("--bulk-size", "bulk_size", int, "Messages per step."),
    ("--interval-min", "interval_min", str, "Daily window start, HH:MM:SS UTC."),
    ("--interval-max", "interval_max", str, "Daily window end, HH:MM:SS UTC."),
    ("--retry-max-attempts", "retry_max_attempts", int, "Tries before a message fails."),
    ("--retry-interval", "retry_interval", str, "First retry delay, HH:MM:SS."),
    ("--retry-max-interval", "retry_max_interval", str, "Longest retry delay, HH:MM:SS."),
    ("--max-age", "max_age", str, "A message older than this expires, HH:MM:SS."),
    ("--rate-per-second", "rate_per_second", float, "Rate limit across all workers."),
]


def _provider_options(fn: Any) -> Any:
    for flag, field, kind, text in reversed(_PROVIDER_OPTIONS):
        fn = env_option(flag, field, envvar=f"TIDINGS_PROVIDER_{field.upper()}", type=kind,
                        default=None, help=text)(fn)
    for name in ("click", "open"):
        fn = env_option(f"--{name}-tracking/--no-{name}-tracking", f"{name}_tracking",
                        envvar=f"TIDINGS_PROVIDER_{name.upper()}_TRACKING", default=None,
                        help=f"Switch {name} tracking.")(fn)
    return env_option("--setting", "settings", envvar="TIDINGS_PROVIDER_SETTINGS",
                      multiple=True, metavar="KEY=VALUE",
                      help="Vendor setting (JSON values allowed); secrets only as KEY_env.")(fn)


def _settings(pairs: tuple[str, ...]) -> dict[str, Any] | None:
    if not pairs:
        return None
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--setting")
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


@click.group()
def providers() -> None:
    """Channel providers and their status tables."""


@providers.command("list")
def providers_list() -> None:
    """List providers in their order."""
    for p in _runtime().channels.objects("provider"):
        rate = f"{p.rate_per_second}/s" if p.rate_per_second else "-"
        click.echo(f"{p.name}\t{p.channel}\t{p.type}\tbulk {p.bulk_size}\t{rate}\t"
                   f"{p.interval_min}-{p.interval_max}")


@providers.command("show")
@click.argument("name")
def providers_show(name: str) -> None:
    """Show one provider (secrets as environment variable names)."""
    runtime = _runtime()
    _show(runtime, "provider", _call(runtime.channels.get, "provider", name))


@providers.command("add")
@click.argument("name")
@_provider_options
def providers_add(name: str, settings: tuple[str, ...], **fields: Any) -> None:
    """Create a provider (its status table is seeded for its type)."""
    runtime = _runtime()
    data = {"name": name, **_given(fields), **_given({"settings": _settings(settings)})}
    _show(runtime, "provider", _call(runtime.channels.create, "provider", data))


@providers.command("set")
@click.argument("name")
@_provider_options
def providers_set(name: str, settings: tuple[str, ...], **fields: Any) -> None:
    """Change some fields of a provider; running workers pick the change up."""
    runtime = _runtime()
    patch = {**_given(fields), **_given({"settings": _settings(settings)})}
    _show(runtime, "provider", _call(runtime.channels.update, "provider", name, patch))


@providers.command("remove")
@click.argument("name")
def providers_remove(name: str) -> None:
    """Delete a provider (refused while a communication channel or a message uses it)."""
    _call(_runtime().channels.delete, "provider", name)
    click.echo(f"removed provider {name}")


@providers.command("statuses")
@click.argument("name")
def providers_statuses(name: str) -> None:
    """Show a provider's status table: code, action, description."""
    for row in _call(_runtime().channels.statuses, name):
        click.echo(f"{row.code}\t{row.action}\t{row.description}")


@providers.command("status-set")
@click.argument("name")
@click.argument("code")
@click.argument("action", type=click.Choice(["sent", "delivered", "retry", "failover", "fail",
                                             "bounce"]))
@env_option("--description", envvar="TIDINGS_STATUS_DESCRIPTION", default="",
            help="What the code means.")
def providers_status_set(name: str, code: str, action: str, description: str) -> None:
    """Set what a response code means for a provider's messages."""
    row = _call(_runtime().channels.set_status, name, code, action, description)
    click.echo(f"{name}\t{row.code}\t{row.action}\t{row.description}")


@providers.command("status-remove")
@click.argument("name")
@click.argument("code")
def providers_status_remove(name: str, code: str) -> None:
    """Delete a status row: the provider's own reading of that code applies again."""
    _call(_runtime().channels.delete_status, name, code)
    click.echo(f"removed {name} {code}")


# -- communication channels ---------------------------------------------------------------


@click.group("communication-channels")
def communication_channels() -> None:
    """Communication channels: a channel and its providers, primary first, then failover."""


def _communication_options(fn: Any) -> Any:
    fn = env_option("--channel", envvar="TIDINGS_COMMUNICATION_CHANNEL", default=None,
                    help="Channel name.")(fn)
    fn = env_option("--provider", "providers", envvar="TIDINGS_COMMUNICATION_PROVIDERS",
                    multiple=True, help="Provider, repeated in order: primary first.")(fn)
    fn = env_option("--default-action", envvar="TIDINGS_COMMUNICATION_DEFAULT_ACTION",
                    default=None, help="Default action type.")(fn)
    return env_option("--entity", envvar="TIDINGS_COMMUNICATION_ENTITY", default=None,
                      help="Entity whose extended properties may be sent as JSON.")(fn)


def _communication_fields(channel: str | None, providers: tuple[str, ...],
                          default_action: str | None, entity: str | None) -> dict[str, Any]:
    return _given({"channel": channel, "providers": list(providers) or None,
                   "default_action": default_action, "entity": entity})


@communication_channels.command("list")
def communication_list() -> None:
    """List communication channels."""
    for c in _runtime().channels.objects("communication"):
        click.echo(f"{c.name}\t{c.channel}\t{' > '.join(c.providers)}\t{c.entity or '-'}")


@communication_channels.command("add")
@click.argument("name")
@_communication_options
def communication_add(name: str, channel: str | None, providers: tuple[str, ...],
                      default_action: str | None, entity: str | None) -> None:
    """Create a communication channel."""
    runtime = _runtime()
    data = {"name": name, **_communication_fields(channel, providers, default_action, entity)}
    _show(runtime, "communication", _call(runtime.channels.create, "communication", data))


@communication_channels.command("set")
@click.argument("name")
@_communication_options
def communication_set(name: str, channel: str | None, providers: tuple[str, ...],
                      default_action: str | None, entity: str | None) -> None:
    """Change a communication channel (--provider replaces the whole list)."""
    runtime = _runtime()
    patch = _communication_fields(channel, providers, default_action, entity)
    _show(runtime, "communication",
          _call(runtime.channels.update, "communication", name, patch))


@communication_channels.command("remove")
@click.argument("name")
def communication_remove(name: str) -> None:
    """Delete a communication channel."""
    _call(_runtime().channels.delete, "communication", name)
    click.echo(f"removed communication channel {name}")


# -- messages add -------------------------------------------------------------------------


def _attachment(path: Path) -> dict[str, str]:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return {"filename": path.name, "content_type": kind,
            "content": base64.b64encode(path.read_bytes()).decode("ascii")}


def _message_options(fn: Any) -> Any:
    E = "TIDINGS_MESSAGE_"
    specs: list[tuple[tuple[str, ...], dict[str, Any]]] = [
        (("--tenant", "-t"), {"envvar": "TIDINGS_TENANT", "required": True, "help": "Tenant."}),
        (("--to",), {"envvar": E + "TO", "multiple": True, "required": True,
                     "help": "Recipient (repeat for more)."}),
        (("--cc",), {"envvar": E + "CC", "multiple": True}),
        (("--bcc",), {"envvar": E + "BCC", "multiple": True}),
        (("--subject",), {"envvar": E + "SUBJECT", "default": ""}),
        (("--text", "body_text"), {"envvar": E + "TEXT", "default": None,
                                   "help": "Text body."}),
        (("--html", "body_html"), {"envvar": E + "HTML", "default": None,
                                   "help": "HTML body."}),
        (("--attach",), {"envvar": E + "ATTACH", "multiple": True,
                         "type": click.Path(exists=True, dir_okay=False, path_type=Path),
                         "help": "File to attach (repeat for more)."}),
        (("--communication-channel",), {"envvar": E + "COMMUNICATION_CHANNEL",
                                        "default": None}),
        (("--provider",), {"envvar": E + "PROVIDER", "default": None}),
        (("--start", "start_at"), {"envvar": E + "START", "default": None,
                                   "help": "Start date, ISO 8601 with offset."}),
        (("--end", "end_at"), {"envvar": E + "END", "default": None,
                               "help": "End date, ISO 8601 with offset."}),
        (("--interval-min",), {"envvar": E + "INTERVAL_MIN", "default": None,
                               "help": "Daily window start, HH:MM:SS UTC."}),
        (("--interval-max",), {"envvar": E + "INTERVAL_MAX", "default": None,
                               "help": "Daily window end, HH:MM:SS UTC."}),
        (("--list-unsubscribe",), {"envvar": E + "LIST_UNSUBSCRIBE", "is_flag": True,
                                   "help": "The recipient subscribed: one-click unsubscribe."}),
        (("--payload",), {"envvar": E + "PAYLOAD", "default": None,
                          "help": "Channel data as JSON (phone, subscription, address)."}),
        (("--idempotency-key",), {"envvar": E + "IDEMPOTENCY_KEY", "default": None,
                                  "help": "The same key twice adds one message."}),
    ]
    for decls, kwargs in reversed(specs):
        fn = env_option(*decls, **kwargs)(fn)
    return fn


@click.command("add")
@_message_options
def messages_add(tenant: str, attach: tuple[Path, ...], payload: str | None,
                 idempotency_key: str | None, **fields: Any) -> None:
    """Add a message by hand (status New); it is sent like any other."""
    from pydantic import ValidationError

    from tidings.channels import manual
    runtime = _runtime()
    if tenant not in {t.id for t in runtime.project.config.tenants}:
        raise click.ClickException(f"unknown tenant {tenant!r}")
    data = {**_given(fields), "attachments": [_attachment(p) for p in attach],
            "payload": json.loads(payload) if payload else {}}
    try:
        request = manual.ManualMessage.model_validate(data)
        now: datetime = runtime.clock.now()
        prepared = manual.prepare(request, tenant, runtime.channels.catalog(), now,
                                  idempotency_key)
        message_id, created = manual.enqueue(runtime.engine, runtime.outbox, tenant,
                                             prepared, now)
    except ValidationError as exc:
        raise click.ClickException("; ".join(
            f"/{'/'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from exc
    except manual.Refused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{message_id}\t{'queued' if created else 'exists'}\t"
               f"{prepared.message.provider}\tdue {prepared.message.due_at.isoformat()}")
