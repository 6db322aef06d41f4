"""``tidings users``: the people who sign in to the web portal (``/portal``)."""

from __future__ import annotations

import secrets
from typing import Any

import click

from tidings.cli_options import env_option

__all__ = ["users"]

GENERATED_PASSWORD_BYTES = 12
ROLES = ("operator", "retailer", "supplier", "business_unit")


def _runtime() -> Any:
    return click.get_current_context().find_root().obj.runtime()


def _accounts(runtime: Any) -> Any:
    from tidings.portal.accounts import Accounts
    return Accounts(runtime.engine)


@click.group()
def users() -> None:
    """Portal users: a login, an argon2-hashed password, a role, a tenant and a party."""


@users.command("add")
@click.argument("login")
@env_option("--role", envvar="TIDINGS_USER_ROLE", required=True, type=click.Choice(ROLES),
            help="operator, retailer, supplier or business_unit.")
@env_option("--tenant", "-t", envvar="TIDINGS_TENANT", required=True, help="Tenant id.")
@env_option("--party", envvar="TIDINGS_USER_PARTY", default=None,
            help="The retailer or supplier id, or the business unit (not for operators).")
@env_option("--name", envvar="TIDINGS_USER_NAME", default="", help="The person's name.")
@env_option("--password", envvar="TIDINGS_USER_PASSWORD", default=None,
            help="At least 10 characters (default: a random one, printed once).")
def users_add(login: str, role: str, tenant: str, party: str | None, name: str,
              password: str | None) -> None:
    """Create a user who can sign in at /portal/sign-in."""
    from tidings.portal.accounts import AccountError, Role
    runtime = _runtime()
    tenant_config = next((t for t in runtime.project.config.tenants if t.id == tenant), None)
    if tenant_config is None:
        raise click.ClickException(f"unknown tenant {tenant!r}")
    if role == "business_unit" and party not in tenant_config.business_units:
        units = ", ".join(tenant_config.business_units) or "none"
        raise click.ClickException(f"--party must be a business unit of {tenant} ({units})")
    generated = password is None
    password = password or secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
    try:
        user = _accounts(runtime).add(login, password, Role(role), tenant, party,
                                      runtime.clock.now(), name)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    bound = f" for {user.party}" if user.party else ""
    click.echo(f"added {user.login}: {user.role.label}{bound} of {user.tenant}")
    if generated:
        click.echo(f"password: {password}   (shown once; the portal stores only its hash)")


@users.command("list")
@env_option("--tenant", "-t", envvar="TIDINGS_TENANT", default=None, help="Tenant id.")
def users_list(tenant: str | None) -> None:
    """List users (never their passwords)."""
    rows = _accounts(_runtime()).list(tenant)
    if not rows:
        click.echo("no users yet: tidings users add LOGIN --role ... --tenant ...")
    for row in rows:
        last = f"{row['last_login_at']:%Y-%m-%d %H:%M}" if row["last_login_at"] else "never"
        click.echo(f"{row['tenant']}\t{row['role']}\t{row['party'] or '-'}\t{row['login']}\t"
                   f"last sign-in {last}")


@users.command("remove")
@click.argument("login")
def users_remove(login: str) -> None:
    """Delete a user; its sessions end at once."""
    from tidings.portal.accounts import UnknownUser
    try:
        _accounts(_runtime()).remove(login)
    except UnknownUser as exc:
        raise click.ClickException(f"no user {login!r}") from exc
    click.echo(f"removed {login}")
