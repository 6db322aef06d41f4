"""Who opened or clicked: a person, or a machine that fetches for everyone.

Mail privacy proxies load every image of every message (Apple Mail Privacy
Protection prefetches on delivery; Gmail, Yahoo and others fetch through
their image proxies), and security scanners follow every link of a message
within seconds of its arrival. Their hits are recorded but counted apart.

A hit is a machine's when (first rule that matches):

1. it is a HEAD request, or has no user agent;
2. its user agent names a proxy or scanner (table ``USER_AGENTS``, plus the
   project's ``machine_user_agents``);
3. it comes from a proxy's or scanner's network (``NETWORKS``, plus the
   project's ``machine_networks``);
4. it comes within ``scanner_seconds`` of the message being sent.

Apple's prefetch announces itself only as the bare user agent
``Mozilla/5.0`` from Apple's network; a bare ``Mozilla/5.0`` from elsewhere is
treated as a machine too, since no person's browser or mail client sends it.
Pure: the time of sending and the time of the hit are arguments.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from tidings.feedback.config import TrackingConfig

__all__ = ["NETWORKS", "USER_AGENTS", "Hit", "Verdict", "classify"]

USER_AGENTS: tuple[tuple[str, str], ...] = (
    ("googleimageproxy", "gmail-image-proxy"),
    ("ggpht.com", "gmail-image-proxy"),
    ("yahoomailproxy", "yahoo-image-proxy"),
    ("bingpreview", "scanner"),
    ("barracuda", "scanner"),
    ("proofpoint", "scanner"),
    ("mimecast", "scanner"),
    ("messagelabs", "scanner"),
    ("symantec", "scanner"),
    ("trend micro", "scanner"),
    ("forcepoint", "scanner"),
    ("zscaler", "scanner"),
    ("safelinks", "scanner"),
    ("headlesschrome", "scanner"),
    ("phantomjs", "scanner"),
    ("python-requests", "scanner"),
    ("python-urllib", "scanner"),
    ("aiohttp", "scanner"),
    ("go-http-client", "scanner"),
    ("curl/", "scanner"),
    ("wget/", "scanner"),
    ("java/", "scanner"),
    ("okhttp", "scanner"),
    ("bot/", "bot"),
    ("bot;", "bot"),
    ("+http", "bot"),
    ("spider", "bot"),
    ("crawler", "bot"),
    ("linkpreview", "link-preview"),
)
NETWORKS: tuple[tuple[str, str], ...] = (
    ("17.0.0.0/8", "apple-mpp"),           # Apple: Mail Privacy Protection prefetch
    ("66.249.80.0/20", "gmail-image-proxy"),  # Google's image proxy (googleusercontent)
    ("66.102.0.0/20", "gmail-image-proxy"),
    ("74.125.0.0/16", "gmail-image-proxy"),
    ("98.136.0.0/14", "yahoo-image-proxy"),
)
_BARE_BROWSER = "mozilla/5.0"


@dataclass(frozen=True, slots=True)
class Hit:
    user_agent: str
    ip: str | None
    method: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Verdict:
    human: bool
    why: str

    def label(self) -> str:
        return "human" if self.human else f"machine: {self.why}"


class _Rules:
    def __init__(self, config: TrackingConfig) -> None:
        self.config = config

    @cached_property
    def agents(self) -> tuple[tuple[str, str], ...]:
        extra = tuple((a.lower(), "configured") for a in self.config.machine_user_agents)
        return USER_AGENTS + extra

    @cached_property
    def networks(self) -> Sequence[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]]:
        pairs = [*NETWORKS, *((n, "configured") for n in self.config.machine_networks)]
        return [(ipaddress.ip_network(n, strict=False), why) for n, why in pairs]


_CACHE: dict[tuple[tuple[str, ...], tuple[str, ...]], _Rules] = {}


def _rules(config: TrackingConfig) -> _Rules:
    key = (tuple(config.machine_user_agents), tuple(config.machine_networks))
    rules = _CACHE.get(key)
    if rules is None:
        rules = _CACHE[key] = _Rules(config)
    return rules


def _network(ip: str | None, rules: _Rules) -> str | None:
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return next((why for net, why in rules.networks if address in net), None)


def classify(hit: Hit, sent_at: datetime | None, config: TrackingConfig) -> Verdict:
    """Person or machine, and which rule said so."""
    rules = _rules(config)
    agent = hit.user_agent.strip().lower()
    if hit.method.upper() == "HEAD":
        return Verdict(False, "head-request")
    if not agent:
        return Verdict(False, "no-user-agent")
    named = next((why for fragment, why in rules.agents if fragment in agent), None)
    if named:
        return Verdict(False, named)
    network = _network(hit.ip, rules)
    if network:
        return Verdict(False, network)
    if agent == _BARE_BROWSER:
        return Verdict(False, "apple-mpp")
    if sent_at is not None and \
            (hit.at - sent_at).total_seconds() < config.scanner_seconds:
        return Verdict(False, "too-soon-after-sending")
    return Verdict(True, "human")
