"""Portal users for ``tidings demo``: one of each role, with passwords printed once.

The demo tenant's retailer, supplier and first business unit are fixed names, so that the
order events a demo records later show up for these users.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from tidings.portal.accounts import Accounts, DuplicateLogin, Role
from tidings.runtime.core import Runtime

__all__ = ["RETAILER", "SUPPLIER", "Credentials", "create_users", "describe"]

RETAILER = "acme-stores"
SUPPLIER = "bright-socks"
PASSWORD_BYTES = 12


@dataclass(frozen=True, slots=True)
class Credentials:
    role: Role
    login: str
    password: str
    party: str | None


def create_users(runtime: Runtime, tenant: str,
                 accounts: Accounts | None = None) -> list[Credentials]:
    config = next(t for t in runtime.project.config.tenants if t.id == tenant)
    unit = config.business_units[0] if config.business_units else None
    wanted = [(Role.OPERATOR, f"operator@{tenant}.example", None),
              (Role.RETAILER, f"buyer@{RETAILER}.example", RETAILER),
              (Role.SUPPLIER, f"service@{SUPPLIER}.example", SUPPLIER)]
    if unit is not None:
        wanted.append((Role.BUSINESS_UNIT, f"lead@{unit}.example", unit))
    accounts, now = accounts or Accounts(runtime.engine), runtime.clock.now()
    made = []
    for role, login, party in wanted:
        password = secrets.token_urlsafe(PASSWORD_BYTES)
        try:
            accounts.add(login, password, role, tenant, party, now, name=f"Demo {role.label}")
        except DuplicateLogin:  # a demo run again in the same folder: a fresh password
            accounts.set_password(login, password)
        made.append(Credentials(role, login, password, party))
    return made


def describe(base: str, credentials: list[Credentials]) -> str:
    lines = [f"\nPortal             {base}/portal/sign-in   (one user per role; passwords shown "
             "only now)"]
    for c in credentials:
        party = f" ({c.party})" if c.party else ""
        lines.append(f"  {c.role.label + party:<28} {c.login:<32} {c.password}")
    return "\n".join(lines)
