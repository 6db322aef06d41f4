"""What ``[[sources]]`` in ``tidings.toml`` says, one typed model per kind of source.

Every source names the message type its input is decoded as (its format,
schema or layout: see ``MessageTypeConfig``), the tenant its events belong to
(unless the message type pulls it out of each record), and when it runs:
``every = "00:05:00"`` (an interval) or ``cron = "0 2 * * 1-5"`` with a
``timezone``. Queue sources (RabbitMQ, SQS) consume continuously; their
schedule only spaces reconnect attempts.

Secrets are never written here: ``password_env`` / ``private_key_env`` name the
environment variables that hold them.

| type           | reads                                                          |
|----------------|----------------------------------------------------------------|
| `directory`    | a local folder (files complete by rename, `.done` or stable size) |
| `sftp_server`  | Tidings' own SFTP server: one folder per partner, key-only login |
| `sftp_poll`    | a partner's SFTP server, visited on the schedule               |
| `rabbitmq`     | a durable (quorum) queue, acknowledged after the commit        |
| `sqs`          | an SQS queue, deleted after the commit                         |
| `s3`           | objects under a bucket prefix, moved or tagged when done       |
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "DirectorySource", "FileRules", "RabbitMqSource", "S3Source", "SftpPartner",
    "SftpPollSource", "SftpServerSource", "SourceConfig", "SourceConfigBase", "SqsSource",
]

SLUG = r"^[a-z0-9][a-z0-9._-]{0,62}$"
Completion = Literal["rename", "done_marker", "stable"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfigBase(_Model):
    name: str = Field(pattern=SLUG)
    tenant: str | None = None
    message_type: str
    """The message type whose format, schema or layout decodes this source's input."""
    every: timedelta | None = None
    cron: str | None = None
    timezone: str = "UTC"
    enabled: bool = True
    batch_size: int = Field(default=500, ge=1, le=10_000)
    """Records committed per transaction."""
    max_deliveries: int = Field(default=5, ge=1, le=1000)
    """A message seen this often without being committed is dead-lettered as ``poison``."""

    @model_validator(mode="after")
    def _one_schedule(self) -> SourceConfigBase:
        if self.every is not None and self.cron is not None:
            raise ValueError("give either every or cron, not both")
        return self


class FileRules(_Model):
    """The shared file lifecycle (see ``ingest.sources.files``)."""

    pattern: str = "*"
    """Glob of the names to take (``*.txt``)."""
    complete: Completion = "rename"
    """rename: names ending .tmp/.part/.filepart or starting with '.' are still being
    written; done_marker: take X only once X.done exists; stable: the size and
    modification time did not change between two polls."""
    processed_dir: str = "processed"
    failed_dir: str = "failed"


class DirectorySource(SourceConfigBase, FileRules):
    type: Literal["directory"]
    path: str
    """Relative to the project folder, or absolute."""


class SftpPartner(_Model):
    name: str = Field(pattern=SLUG)
    """The login name and the partner's folder under ``root``."""
    authorized_keys: str
    """Path of the partner's OpenSSH authorized_keys file."""
    tenant: str | None = None


class SftpServerSource(SourceConfigBase, FileRules):
    type: Literal["sftp_server"]
    host: str = "127.0.0.1"
    port: int = Field(default=2222, ge=0, le=65535)
    host_key: str
    """Path of the server's private host key (OpenSSH format)."""
    root: str
    """One folder per partner below this; partners upload into ``<root>/<partner>/``."""
    partners: list[SftpPartner] = Field(min_length=1)


class SftpPollSource(SourceConfigBase, FileRules):
    type: Literal["sftp_poll"]
    host: str
    port: int = Field(default=22, ge=1, le=65535)
    username: str
    password_env: str | None = None
    private_key_env: str | None = None
    """Environment variable holding the private key text (OpenSSH or PEM)."""
    known_hosts: str | None = None
    """Path of a known_hosts file pinning the partner's host key; None accepts any key
    (tests only)."""
    remote_dir: str = "."
    connect_timeout_seconds: float = Field(default=15.0, gt=0)

    @model_validator(mode="after")
    def _one_secret(self) -> SftpPollSource:
        if self.password_env is None and self.private_key_env is None:
            raise ValueError("give password_env or private_key_env")
        return self


class RabbitMqSource(SourceConfigBase):
    type: Literal["rabbitmq"]
    url_env: str = "TIDINGS_AMQP_URL"
    """Environment variable with the amqp:// URL (it carries the password)."""
    queue: str
    quorum: bool = True
    """Quorum queues count deliveries themselves (``x-delivery-count``)."""
    prefetch: int = Field(default=50, ge=1, le=10_000)
    reconnect_min_seconds: float = Field(default=0.5, gt=0)
    reconnect_max_seconds: float = Field(default=30.0, gt=0)


class SqsSource(SourceConfigBase):
    type: Literal["sqs"]
    queue_url: str
    region: str = "us-east-1"
    endpoint_url: str | None = None
    wait_seconds: int = Field(default=20, ge=0, le=20)
    """Long polling: how long one receive waits for a message."""
    visibility_seconds: int = Field(default=60, ge=1, le=43_200)
    """Hidden this long while being processed; extended while the work goes on."""
    max_messages: int = Field(default=10, ge=1, le=10)


class S3Source(SourceConfigBase):
    type: Literal["s3"]
    bucket: str
    prefix: str = "inbox/"
    region: str = "us-east-1"
    endpoint_url: str | None = None
    when_done: Literal["move", "tag"] = "move"
    """move: copy under processed/ or failed/ (beside the prefix) and delete; tag: set
    ``tidings-status`` on the object and leave it."""
    processed_prefix: str = "processed/"
    failed_prefix: str = "failed/"


SourceConfig = Annotated[
    DirectorySource | SftpServerSource | SftpPollSource | RabbitMqSource | SqsSource | S3Source,
    Field(discriminator="type"),
]
