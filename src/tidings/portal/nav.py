"""The navigation: which pages each role may open, in the order the header shows them."""

from __future__ import annotations

from dataclasses import dataclass

from tidings.portal.accounts import Role, User

__all__ = ["HOME", "Link", "items"]

OPS, RET, SUP, BU = Role.OPERATOR, Role.RETAILER, Role.SUPPLIER, Role.BUSINESS_UNIT


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    href: str
    current: bool = False


# (label, path, roles that see it); the first link a role sees is its home page.
PAGES: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("Messages", "/portal/ops/messages", frozenset({OPS})),
    ("Exceptions", "/portal/exceptions", frozenset({RET, SUP, OPS})),
    ("Notifications", "/portal/notifications", frozenset({SUP})),
    ("Performance", "/portal/performance", frozenset({RET, SUP, OPS})),
    ("Reports", "/portal/reports", frozenset({BU, OPS})),
    ("Templates", "/portal/ops/templates", frozenset({OPS})),
    ("Rules", "/portal/ops/rules", frozenset({OPS})),
    ("Channels", "/portal/ops/channels", frozenset({OPS})),
    ("Sources", "/portal/ops/sources", frozenset({OPS})),
    ("Dead letters", "/portal/ops/dead-letters", frozenset({OPS})),
    ("Suppressions", "/portal/ops/suppressions", frozenset({OPS})),
    ("API keys", "/portal/ops/keys", frozenset({OPS})),
)

HOME = {role: next(path for _, path, who in PAGES if role in who) for role in Role}


def items(user: User, current_path: str) -> list[Link]:
    return [Link(label, path, current_path == path or current_path.startswith(path + "/"))
            for label, path, who in PAGES if user.role in who]
