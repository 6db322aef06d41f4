"""Who is looking: the operator of a tenant, one retailer, or one supplier.

Every read and write of the sla stage takes a ``Viewer`` and narrows what it touches with
``Viewer.sees``/the SQL of the same rule: a retailer sees only its own orders, a supplier only
its own across all its retailers, the operator everything of its tenant. Something a viewer
may not see does not exist for it (``NotFound``, a 404), so ids of other parties leak nothing.
The API builds a viewer from an API key, the portal from a session user: both call the same
service functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["NotFound", "PartyKind", "Viewer"]


class PartyKind(StrEnum):
    OPERATOR = "operator"
    RETAILER = "retailer"
    SUPPLIER = "supplier"


class NotFound(LookupError):
    """Nothing of that kind and id that this viewer may see."""


@dataclass(frozen=True, slots=True)
class Viewer:
    tenant: str
    kind: PartyKind = PartyKind.OPERATOR
    party: str | None = None

    def __post_init__(self) -> None:
        if (self.kind is PartyKind.OPERATOR) != (self.party is None):
            raise ValueError("an operator has no party; a retailer or supplier has one")

    @classmethod
    def operator(cls, tenant: str) -> Viewer:
        return cls(tenant)

    @classmethod
    def retailer(cls, tenant: str, retailer: str) -> Viewer:
        return cls(tenant, PartyKind.RETAILER, retailer)

    @classmethod
    def supplier(cls, tenant: str, supplier: str) -> Viewer:
        return cls(tenant, PartyKind.SUPPLIER, supplier)

    def sees(self, tenant: str, retailer: str, supplier: str) -> bool:
        """Whether an object of ``tenant`` between ``retailer`` and ``supplier`` is visible."""
        if tenant != self.tenant:
            return False
        if self.kind is PartyKind.RETAILER:
            return retailer == self.party
        if self.kind is PartyKind.SUPPLIER:
            return supplier == self.party
        return True

    def label(self) -> str:
        return self.kind.value if self.party is None else f"{self.kind.value}:{self.party}"
