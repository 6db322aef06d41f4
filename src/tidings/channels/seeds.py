"""What ``tidings.toml`` asks the database to hold: the seed of the operator's objects.

``from_project(config)`` gives the channel configurations, providers (in file
order), communication channels and status rows of a project file. A channel
that no communication channel names gets an implicit one of the same name
holding only its first provider (the one rules use by default): failover is
never implied, because the next provider of a channel may be the capture
provider, which keeps mail rather than delivering it. Name the failover
order in a ``[[communication_channels]]`` entry. Each provider's status table is its
type's seeded defaults (origin ``seed``), overridden by the file's
``[[provider_statuses]]`` rows (origin ``project``).
"""

from __future__ import annotations

from dataclasses import dataclass

from tidings.channels.statuses import StatusRow, seeds_for
from tidings.project.model import (
    ChannelConfig,
    CommunicationChannelConfig,
    ProjectConfig,
    ProviderConfig,
)

__all__ = ["Desired", "SeededStatus", "from_project"]


@dataclass(frozen=True, slots=True)
class SeededStatus:
    provider: str
    row: StatusRow
    origin: str  # seed | project


@dataclass(frozen=True, slots=True)
class Desired:
    channels: list[ChannelConfig]
    providers: list[ProviderConfig]
    communication: list[CommunicationChannelConfig]
    statuses: list[SeededStatus]


def from_project(config: ProjectConfig) -> Desired:
    return Desired(list(config.channels), list(config.providers),
                   _communication(config), _statuses(config))


def _communication(config: ProjectConfig) -> list[CommunicationChannelConfig]:
    declared = list(config.communication_channels)
    covered = {c.channel for c in declared}
    names = {c.name for c in declared}
    for channel in config.channels:
        providers = [p.name for p in config.providers_of(channel.name)]
        if channel.name in covered or channel.name in names or not providers:
            continue
        declared.append(CommunicationChannelConfig(name=channel.name, channel=channel.name,
                                                   providers=providers[:1]))
    return declared


def _statuses(config: ProjectConfig) -> list[SeededStatus]:
    rows: dict[tuple[str, str], SeededStatus] = {}
    for provider in config.providers:
        for row in seeds_for(provider.type):
            rows[(provider.name, row.code)] = SeededStatus(provider.name, row, "seed")
    for status in config.provider_statuses:
        row = StatusRow(status.code, status.action, status.description)
        rows[(status.provider, status.code)] = SeededStatus(status.provider, row, "project")
    return list(rows.values())
