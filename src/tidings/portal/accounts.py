"""Portal users: who may sign in, with which role, for which tenant and party.

A user signs in with a login (an email address, compared lower-cased) and a password kept as
an argon2id hash (``argon2-cffi``; a hash made with older parameters is replaced at the next
successful sign-in). Each user has one role:

| role            | party                  | sees                                            |
|-----------------|------------------------|-------------------------------------------------|
| ``operator``    | none                   | everything of its tenant: operations pages      |
| ``retailer``    | the retailer id        | its own orders, exceptions and performance      |
| ``supplier``    | the supplier id        | its own exceptions, performance, digest times   |
| ``business_unit`` | the business unit    | reports of that business unit                   |

Sign-in failures are counted per user; after ``MAX_FAILED_LOGINS`` in a row the login is
locked for ``LOCK_SECONDS`` (the attempt is refused without a password check, and says so).
Errors::

    AccountError
    ├── DuplicateLogin   the login is taken
    ├── UnknownUser      (also LookupError) no user with that login
    └── InvalidAccount   (also ValueError) role, party or login not acceptable; ``field`` says which
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from enum import StrEnum
from typing import Any

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from tidings.sla.parties import Viewer
from tidings.storage.tables_portal import portal_users

__all__ = [
    "LOCK_SECONDS",
    "MAX_FAILED_LOGINS",
    "AccountError",
    "Accounts",
    "DuplicateLogin",
    "InvalidAccount",
    "Locked",
    "Role",
    "SignIn",
    "UnknownUser",
    "User",
]

U = portal_users
MAX_FAILED_LOGINS = 5
LOCK_SECONDS = 300
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
# Verified when the login does not exist, so that a wrong login costs as long as a wrong password.
_DUMMY_PASSWORD = "tidings-no-such-user"  # noqa: S105 - not a secret, a timing decoy


class Role(StrEnum):
    OPERATOR = "operator"
    RETAILER = "retailer"
    SUPPLIER = "supplier"
    BUSINESS_UNIT = "business_unit"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class AccountError(Exception):
    """Base of the errors of portal accounts."""


class DuplicateLogin(AccountError):
    pass


class UnknownUser(AccountError, LookupError):
    pass


class InvalidAccount(AccountError, ValueError):
    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field, self.detail = field, detail


@dataclass(frozen=True, slots=True)
class User:
    id: int
    login: str
    name: str
    role: Role
    tenant: str
    party: str | None

    @property
    def display(self) -> str:
        return self.name or self.login

    def viewer(self) -> Viewer:
        """The SLA stage's scope for this user; a business unit has none (it sees reports)."""
        if self.role is Role.RETAILER:
            return Viewer.retailer(self.tenant, str(self.party))
        if self.role is Role.SUPPLIER:
            return Viewer.supplier(self.tenant, str(self.party))
        if self.role is Role.OPERATOR:
            return Viewer.operator(self.tenant)
        raise ValueError("a business unit user has no SLA scope")


@dataclass(frozen=True, slots=True)
class Locked:
    """The login is locked until ``until`` after too many failed sign-ins."""

    until: datetime


SignIn = User | Locked | None


def normal_login(login: str) -> str:
    address = parseaddr(login.strip())[1].lower()
    if "@" not in address or len(address) > 320 or any(c.isspace() for c in address):
        raise InvalidAccount("login", "an email address, like ada@example.com")
    return address


def check_password(password: str) -> None:
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise InvalidAccount("password", f"at least {MIN_PASSWORD_CHARS} characters")


def check_binding(role: Role, party: str | None) -> str | None:
    """The party a role needs: none for an operator, one id for every other role."""
    party = (party or "").strip() or None
    if role is Role.OPERATOR and party is not None:
        raise InvalidAccount("party", "an operator sees the whole tenant; give no party")
    if role is not Role.OPERATOR and party is None:
        raise InvalidAccount("party", f"a {role.label} user needs the id of its {role.label}")
    if party is not None and len(party) > 128:
        raise InvalidAccount("party", "at most 128 characters")
    return party


class Accounts:
    def __init__(self, engine: Engine, hasher: argon2.PasswordHasher | None = None) -> None:
        self.engine = engine
        self.hasher = hasher or argon2.PasswordHasher()
        self._dummy_hash: str | None = None  # made at the first unknown login

    def add(self, login: str, password: str, role: Role, tenant: str, party: str | None,
            now: datetime, name: str = "") -> User:
        login = normal_login(login)
        check_password(password)
        party = check_binding(role, party)
        name = name.strip()[:200]
        values = {"login": login, "name": name, "role": role.value, "tenant": tenant,
                  "party": party, "created_at": now, "password_hash": self.hasher.hash(password)}
        try:
            with self.engine.begin() as conn:
                key = conn.execute(insert(U).values(**values)).inserted_primary_key
        except IntegrityError as exc:
            raise DuplicateLogin(f"the login {login} is taken") from exc
        assert key is not None
        return User(int(key[0]), login, name, role, tenant, party)

    def remove(self, login: str) -> None:
        with self.engine.begin() as conn:
            if conn.execute(delete(U).where(U.c.login == login.strip().lower())).rowcount != 1:
                raise UnknownUser(login)

    def set_password(self, login: str, password: str) -> None:
        check_password(password)
        with self.engine.begin() as conn:
            changed = conn.execute(update(U).where(U.c.login == login.strip().lower()).values(
                password_hash=self.hasher.hash(password), failed_logins=0, locked_until=None))
            if changed.rowcount != 1:
                raise UnknownUser(login)

    def list(self, tenant: str | None = None) -> list[dict[str, Any]]:
        stmt = select(U.c.id, U.c.login, U.c.name, U.c.role, U.c.tenant, U.c.party,
                      U.c.created_at, U.c.last_login_at).order_by(U.c.tenant, U.c.role, U.c.login)
        if tenant is not None:
            stmt = stmt.where(U.c.tenant == tenant)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def get(self, user_id: int) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(U).where(U.c.id == user_id)).first()
        return None if row is None else _user(row)

    def authenticate(self, login: str, password: str, now: datetime) -> SignIn:
        """The user when the password is right; ``Locked`` while locked; ``None`` otherwise."""
        with self.engine.connect() as conn:
            row = conn.execute(select(U).where(U.c.login == login.strip().lower())).first()
        if row is None:
            self._dummy_hash = self._dummy_hash or self.hasher.hash(_DUMMY_PASSWORD)
            self._verify(self._dummy_hash, password)
            return None
        if row.locked_until is not None and row.locked_until > now:
            return Locked(row.locked_until)
        if not self._verify(row.password_hash, password):
            self._failed(row.id, row.failed_logins + 1, now)
            return None
        self._succeeded(row, password, now)
        return _user(row)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return bool(self.hasher.verify(password_hash, password[:MAX_PASSWORD_CHARS]))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _failed(self, user_id: int, failures: int, now: datetime) -> None:
        locked = now + timedelta(seconds=LOCK_SECONDS) if failures >= MAX_FAILED_LOGINS else None
        with self.engine.begin() as conn:
            conn.execute(update(U).where(U.c.id == user_id).values(
                failed_logins=0 if locked else failures, locked_until=locked))

    def _succeeded(self, row: Any, password: str, now: datetime) -> None:
        values: dict[str, Any] = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
        if self.hasher.check_needs_rehash(row.password_hash):
            values["password_hash"] = self.hasher.hash(password)
        with self.engine.begin() as conn:
            conn.execute(update(U).where(U.c.id == row.id).values(**values))


def _user(row: Any) -> User:
    return User(int(row.id), row.login, row.name, Role(row.role), row.tenant, row.party)
