"""The ``[feedback]`` table of ``tidings.toml``: tracking, returns, suppression, reports.

```toml
[feedback]
return_path_domain = "bounces.acme.example"   # VERP: bounces+<token>@bounces.acme.example
soft_bounce_limit = 3                          # soft bounces before an address is suppressed
sns_topics = ["arn:aws:sns:eu-west-1:123456789012:ses-feedback"]

[feedback.tracking]
scanner_seconds = 10                           # hits this soon after sending are machines
machine_networks = ["203.0.113.0/24"]          # more proxy or scanner networks

[[feedback.reports]]
name = "web-shop-weekly"
tenant = "acme"
business_unit = "web-shop"
recipients = ["ops@acme.example"]
cron = "0 8 * * 1"
timezone = "Europe/Berlin"
days = 7
```
"""

from __future__ import annotations

import ipaddress
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["FeedbackConfig", "ReportConfig", "TrackingConfig"]

SLUG = r"^[a-z0-9][a-z0-9._-]{0,62}$"
DOMAIN = r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
TOPIC_ARN = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]{1,256}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrackingConfig(_Model):
    scanner_seconds: float = Field(default=10.0, ge=0, le=3600)
    """An open or click this soon after the message was sent is a machine's."""
    machine_user_agents: list[str] = []
    """More user-agent fragments (case-insensitive) that mark a proxy or a scanner."""
    machine_networks: list[str] = []
    """More networks (CIDR) whose hits are a proxy's or a scanner's."""

    @field_validator("machine_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)
        return value


class ReportConfig(_Model):
    """A business report mailed on a schedule."""

    name: str = Field(pattern=SLUG)
    tenant: str
    business_unit: str | None = None
    """None: every business unit of the tenant."""
    recipients: list[str] = Field(min_length=1)
    cron: str
    timezone: str = "UTC"
    days: int = Field(default=7, ge=1, le=366)
    """How many whole local days before the tick the report covers."""
    provider: str | None = None
    """The email provider that sends it; None: the first email provider."""

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not croniter.is_valid(value) or len(value.split()) != 5:
            raise ValueError(f"{value!r} is not a five-field cron expression")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class FeedbackConfig(_Model):
    return_path_domain: str | None = Field(default=None, pattern=DOMAIN, max_length=200)
    """Set: each email gets its own return path ``bounces+<token>@<domain>`` (VERP)."""
    soft_bounce_limit: int = Field(default=3, ge=1, le=100)
    """Messages to one address that end soft-bounced before the address is suppressed."""
    sns_topics: list[str] = []
    """TopicArns whose SNS notifications are accepted; empty: SNS feedback is refused."""
    tracking: TrackingConfig = TrackingConfig()
    reports: list[ReportConfig] = []

    @field_validator("sns_topics")
    @classmethod
    def _topics(cls, value: list[str]) -> list[str]:
        for arn in value:
            if not re.match(TOPIC_ARN, arn):
                raise ValueError(f"{arn!r} is not an SNS topic ARN")
        return value
