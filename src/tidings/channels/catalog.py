"""The operator's objects as one immutable snapshot: what the dispatcher works from.

A ``Catalog`` holds the channel configurations, channel providers (in their
order), communication channels and every provider's status table, read in
one transaction at one ``version``. The dispatcher asks for the current
catalog at every step; a new version (any write through the API, the CLI or
``tidings sync``) gives a new snapshot, so provider settings change without a
restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tidings.channels.statuses import StatusTable
from tidings.dispatch.policy import Policy
from tidings.project.model import ChannelConfig, CommunicationChannelConfig, ProviderConfig

__all__ = ["Catalog", "UnknownObject"]


class UnknownObject(LookupError):
    """No channel, provider or communication channel of that name."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"no {kind} {name!r}")
        self.kind, self.name = kind, name


@dataclass(frozen=True)
class Catalog:
    version: int
    channels: Mapping[str, ChannelConfig]
    providers: Mapping[str, ProviderConfig]
    """In the operator's order: the project file's order, then later additions."""
    communication: Mapping[str, CommunicationChannelConfig]
    statuses: StatusTable = field(default_factory=lambda: StatusTable({}))
    origins: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """kind ("channel", "provider", "communication") -> name -> "project" | "operator"."""

    def origin(self, kind: str, name: str) -> str | None:
        return self.origins.get(kind, {}).get(name)

    def provider(self, name: str) -> ProviderConfig:
        try:
            return self.providers[name]
        except KeyError:
            raise UnknownObject("provider", name) from None

    def communication_channel(self, name: str) -> CommunicationChannelConfig:
        try:
            return self.communication[name]
        except KeyError:
            raise UnknownObject("communication channel", name) from None

    def policies(self) -> dict[str, Policy]:
        return {name: Policy.of(config) for name, config in self.providers.items()}

    def kind_of(self, channel: str) -> str:
        """The kind (email, sms, push, print) of a channel; unknown channels read as email."""
        config = self.channels.get(channel)
        return config.kind if config else "email"

    def chain(self, communication: str | None, channel: str, provider: str) -> list[str]:
        """The ordered providers a message may use: its communication channel's, or the
        first communication channel of its channel that lists its provider."""
        named = self.communication.get(communication or "")
        if named is not None and provider in named.providers:
            return list(named.providers)
        for candidate in self.communication.values():
            if candidate.channel == channel and provider in candidate.providers:
                return list(candidate.providers)
        return [provider]

    def default_communication(self, channel: str) -> CommunicationChannelConfig | None:
        return next((c for c in self.communication.values() if c.channel == channel), None)
