"""Tables of the sla stage, on the shared metadata (see ``tables``)."""

from __future__ import annotations

from tidings.storage.tables import metadata

__all__ = ["metadata"]
