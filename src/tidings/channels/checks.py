"""Problems of the channels sections of ``tidings.toml``, each with its line.

Communication channels (channel, providers on that channel, no repeats),
provider status rows (a known provider, one row per code), rule fallbacks
(channel, provider, template, recipients) and tenants' DKIM keys (exactly one
source: an environment variable or a file).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Set
from typing import Any

from tidings.channels.connection import clear_secrets
from tidings.project import loader
from tidings.project.locate import locate
from tidings.project.model import ProjectConfig
from tidings.project.problems import Problem
from tidings.rules import pointer

__all__ = ["problems"]


def problems(config: ProjectConfig, text: str, templates: Set[str]) -> list[Problem]:
    return (_communication(config, text) + _statuses(config, text)
            + _fallbacks(config, text, templates) + _dkim(config, text)
            + _secrets(config, text))


def _secrets(config: ProjectConfig, text: str) -> list[Problem]:
    return [_p(text, ("providers", i, "settings"),
               f"provider {p.name!r}: settings.{key} looks like a secret in clear; give it "
               f"as {key}_env = \"ENV_VAR_NAME\"")
            for i, p in enumerate(config.providers) for key in clear_secrets(p.settings)]


def _p(text: str, loc: tuple[Any, ...], message: str) -> Problem:
    return Problem(loader.CONFIG_FILE, locate(text, loc), message)


def _communication(config: ProjectConfig, text: str) -> list[Problem]:
    found: list[Problem] = []
    channels = {c.name for c in config.channels}
    providers = {p.name: p for p in config.providers}
    names = Counter(c.name for c in config.communication_channels)
    for i, comm in enumerate(config.communication_channels):
        at = ("communication_channels", i)
        if names[comm.name] > 1:
            found.append(_p(text, at, f"communication channel {comm.name!r} is defined twice"))
        if comm.channel not in channels:
            found.append(_p(text, (*at, "channel"), f"communication channel {comm.name!r}: "
                                                    f"unknown channel {comm.channel!r}"))
        if len(set(comm.providers)) != len(comm.providers):
            found.append(_p(text, (*at, "providers"),
                            f"communication channel {comm.name!r}: a provider is listed twice"))
        for name in comm.providers:
            provider = providers.get(name)
            if provider is None or provider.channel != comm.channel:
                why = "unknown provider" if provider is None else "not on its channel:"
                found.append(_p(text, (*at, "providers"),
                                f"communication channel {comm.name!r}: {why} {name!r}"))
    return found


def _statuses(config: ProjectConfig, text: str) -> list[Problem]:
    found: list[Problem] = []
    providers = {p.name for p in config.providers}
    twice = Counter((s.provider, s.code) for s in config.provider_statuses)
    for i, status in enumerate(config.provider_statuses):
        at = ("provider_statuses", i)
        if status.provider not in providers:
            found.append(_p(text, (*at, "provider"),
                            f"provider status: unknown provider {status.provider!r}"))
        if twice[(status.provider, status.code)] > 1:
            found.append(_p(text, (*at, "code"), f"provider status {status.provider} "
                                                 f"{status.code!r} is defined twice"))
    return found


def _fallbacks(config: ProjectConfig, text: str, templates: Set[str]) -> list[Problem]:
    found: list[Problem] = []
    channels = {c.name for c in config.channels}
    providers = {p.name: p for p in config.providers}
    for i, rule in enumerate(config.rules):
        for j, fallback in enumerate(rule.fallback):
            at = ("rules", i, "fallback", j)

            def bad(key: str, message: str, at: tuple[Any, ...] = at,
                    name: str = rule.name) -> None:
                found.append(_p(text, (*at, key), f"rule {name!r} fallback: {message}"))

            if fallback.channel not in channels:
                bad("channel", f"unknown channel {fallback.channel!r}")
            elif not config.providers_of(fallback.channel):
                bad("channel", f"channel {fallback.channel!r} has no provider")
            chosen = providers.get(fallback.provider or "")
            if fallback.provider and (chosen is None or chosen.channel != fallback.channel):
                bad("provider", f"provider {fallback.provider!r} is not on channel "
                                f"{fallback.channel!r}")
            if fallback.template and fallback.template not in templates:
                bad("template", f"no template {fallback.template!r} in templates/")
            for spec in fallback.to:
                if not pointer.is_pointer(spec) and not spec.strip():
                    bad("to", "an empty recipient")
    return found


def _dkim(config: ProjectConfig, text: str) -> list[Problem]:
    found: list[Problem] = []
    for i, tenant in enumerate(config.tenants):
        for j, key in enumerate(tenant.dkim):
            if (key.private_key_env is None) == (key.private_key_file is None):
                found.append(_p(text, ("tenants", i, "dkim", j),
                                f"tenant {tenant.id!r} DKIM key for {key.domain}: give exactly "
                                "one of private_key_env and private_key_file"))
    return found
