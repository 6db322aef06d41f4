"""The shape of ``tidings.toml``, as pydantic models.

Names are the keys users write. Cross references (a rule naming a provider,
a template, a message type) are checked by ``project.checks``, not here.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tidings.feedback.config import FeedbackConfig  # tracking, returns, suppression, reports
from tidings.ingest.sources.config import SourceConfig  # typed per kind of source

__all__ = [
    "ChannelConfig", "CommunicationChannelConfig", "DkimKeyConfig", "Extraction",
    "FallbackConfig", "MessageTypeConfig", "ProjectConfig",
    "ProjectMeta", "ProviderConfig", "ProviderStatusConfig", "RuleConfig", "SourceConfig",
    "TenantConfig",
]

SLUG = r"^[a-z0-9][a-z0-9._-]{0,62}$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
"""An environment variable's name: how a secret is referred to, never its value."""
StatusAction = Literal["sent", "delivered", "retry", "failover", "fail", "bounce"]
ChannelKind = Literal["email", "sms", "push", "print"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectMeta(_Model):
    name: str = "tidings"
    default_locale: str = "en"


class DkimKeyConfig(_Model):
    """A tenant's DKIM key for one domain: the PEM from an env var or a file, never inline."""

    domain: str
    selector: str
    private_key_env: str | None = Field(default=None, pattern=ENV_NAME)
    private_key_file: str | None = None
    """Relative to the project folder."""


class TenantConfig(_Model):
    id: str = Field(pattern=SLUG)
    name: str
    default_locale: str | None = None
    business_units: list[str] = []
    dkim: list[DkimKeyConfig] = []


class Extraction(_Model):
    """JSON pointers into a decoded record: what the event is, for whom, and its key.

    ``type`` None: the message type's own name; ``external_id`` None: the source's
    key (file hash and record number, queue message id); ``tenant`` None: the
    source's or the message type's tenant; ``recipients``: values gathered into
    the event's ``/recipients`` list, for rules to address (``to = ["/recipients"]``);
    ``data`` None: the whole record is the event's payload.
    """

    type: str | None = None
    external_id: str | None = None
    tenant: str | None = None
    recipients: list[str] = []
    data: str | None = None


class MessageTypeConfig(_Model):
    name: str = Field(pattern=SLUG)
    tenant: str | None = None
    """None: the type is offered to every tenant."""
    schema_: str | None = Field(default=None, alias="schema")
    """Path of a JSON Schema (draft 2020-12), relative to the project folder."""
    format: Literal["json", "xml", "delimited", "fixed_width", "x12"] = "json"
    """How sources other than the JSON API decode it (see ``tidings.ingest.sources.decoding``)."""
    layout: str | None = None
    """delimited / fixed_width: path of the layout dictionary (YAML)."""
    xsd: str | None = None
    """xml: path of an XSD that every document must satisfy."""
    records_at: str | None = None
    """xml: XPath of the record elements; json: pointer of the records (default: the document)."""
    namespaces: dict[str, str] = {}
    """xml: prefix -> namespace URI, for ``records_at``."""
    extract: Extraction = Extraction()
    description: str = ""


class ChannelConfig(_Model):
    name: str = Field(pattern=SLUG)
    code: int = Field(ge=0)
    kind: ChannelKind


class ProviderConfig(_Model):
    name: str = Field(pattern=SLUG)
    channel: str
    type: Literal["capture", "smtp", "ses", "twilio", "http_sms", "webpush", "print_api",
                  "print_batch"]  # the last six: providers.registry
    service_url: str | None = None
    user: str | None = None
    secret_env: str | None = Field(default=None, pattern=ENV_NAME)
    """Name of the environment variable that holds the password or API key."""
    from_address: str | None = None
    bulk_size: int = Field(default=100, ge=1, le=10_000)
    interval_min: time = time(0, 0, 0)
    interval_max: time = time(23, 59, 59)
    """The daily UTC window in which the provider may send; min > max wraps midnight."""
    retry_max_attempts: int = Field(default=8, ge=1, le=100)
    retry_interval: timedelta = timedelta(minutes=1)
    retry_max_interval: timedelta = timedelta(hours=1)
    max_age: timedelta = timedelta(days=3)
    """A message not sent this long after it was queued expires."""
    rate_per_second: float | None = Field(default=None, gt=0)
    open_tracking: bool = False
    click_tracking: bool = False
    settings: dict[str, Any] = {}
    """Vendor settings (host, port, security...); secrets only as ``*_env`` names."""

    @field_validator("settings")
    @classmethod
    def _no_clear_secrets(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if key in {"password", "api_key", "token", "secret", "private_key"}:
                raise ValueError(f"settings.{key}: give secrets as {key}_env = \"ENV_VAR_NAME\"")
        return value


class CommunicationChannelConfig(_Model):
    name: str = Field(pattern=SLUG)
    channel: str
    providers: list[str] = Field(min_length=1)
    """Ordered: the first is primary, the rest are failover."""
    default_action: str = "send"
    entity: str | None = None
    """The entity (``order``, ``customer``...) whose extended properties may be sent as JSON."""


class ProviderStatusConfig(_Model):
    """One row of a provider's status table: a vendor code and what it means."""

    provider: str
    code: str = Field(min_length=1, max_length=32)
    action: StatusAction
    description: str = ""


class FallbackConfig(_Model):
    """Where a rule sends when its own recipients are missing (email, else SMS)."""

    channel: str
    to: list[str] = Field(min_length=1)
    provider: str | None = None
    template: str | None = None
    """None: the rule's own template."""


class RuleConfig(_Model):
    name: str = Field(pattern=SLUG)
    tenant: str
    message_type: str
    when: str = "true"
    """A CEL expression over ``event`` (the payload), ``type`` and ``tenant``."""
    to: list[str] = Field(min_length=1)
    """JSON pointers into the payload (``/customer/email``) or fixed addresses."""
    cc: list[str] = []
    bcc: list[str] = []
    channel: str = "email"
    provider: str | None = None
    """None: the first provider of the channel."""
    template: str
    locale: str | None = None
    """A pointer into the payload (``/customer/locale``) or a fixed locale."""
    delay: timedelta | None = None
    send_at: str | None = None
    """A pointer to an ISO 8601 time in the payload; the message waits until then."""
    expires_after: timedelta | None = None
    fallback: list[FallbackConfig] = []
    """Tried in order when ``to`` finds no recipient in the event."""
    list_unsubscribe: bool = False
    """The recipient subscribed (digests, reports): add RFC 8058 one-click unsubscribe."""


class ProjectConfig(_Model):
    project: ProjectMeta = ProjectMeta()
    tenants: list[TenantConfig] = []
    message_types: list[MessageTypeConfig] = []
    channels: list[ChannelConfig] = []
    providers: list[ProviderConfig] = []
    communication_channels: list[CommunicationChannelConfig] = []
    provider_statuses: list[ProviderStatusConfig] = []
    rules: list[RuleConfig] = []
    sources: list[SourceConfig] = []
    feedback: FeedbackConfig = FeedbackConfig()

    def provider(self, name: str) -> ProviderConfig:
        return next(p for p in self.providers if p.name == name)

    def channel(self, name: str) -> ChannelConfig:
        return next(c for c in self.channels if c.name == name)

    def message_type(self, tenant: str, name: str) -> MessageTypeConfig | None:
        return next((m for m in self.message_types
                     if m.name == name and m.tenant in (None, tenant)), None)

    def providers_of(self, channel: str) -> list[ProviderConfig]:
        return [p for p in self.providers if p.channel == channel]
