"""The operator's objects as the API and the CLI show them: times and durations as HH:MM:SS.

A secret appears only as the name of the environment variable that holds it
(``secret_env``, ``settings.*_env``); the value is never read here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tidings.channels.statuses import StatusRow
from tidings.project.model import ChannelConfig, CommunicationChannelConfig, ProviderConfig

__all__ = ["hms", "public", "public_status"]

_DURATIONS = ("retry_interval", "retry_max_interval", "max_age")


def hms(value: timedelta) -> str:
    """``timedelta(hours=72)`` -> ``"72:00:00"`` (hours are not folded into days)."""
    seconds = int(value.total_seconds())
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def public(config: ChannelConfig | ProviderConfig | CommunicationChannelConfig,
           origin: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = config.model_dump(mode="json", by_alias=True)
    if isinstance(config, ProviderConfig):
        for key in _DURATIONS:
            out[key] = hms(getattr(config, key))
    if origin is not None:
        out["origin"] = origin
    return out


def public_status(provider: str, row: StatusRow) -> dict[str, Any]:
    return {"provider": provider, "code": row.code, "action": row.action,
            "description": row.description}
