"""Process settings: where the database is, secrets, ports.

Read once, by the composition root (``tidings.runtime``), from the environment
(``TIDINGS_*``) and an optional ``.env`` in the project folder. What a project
*does* (tenants, rules, providers) lives in its ``tidings.toml``; this module
only holds what differs between machines and must stay out of version control.

Placeholder secrets are refused outside development, so that a copy of the
demo settings can never run in production unnoticed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["PLACEHOLDER_SECRETS", "Settings", "SettingsError"]

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "changethis", "secret", "dev",
                                 "development", "tidings-dev-secret"})
MIN_SECRET_CHARS = 32
DEV_SECRET = "tidings-dev-secret"  # noqa: S105 - the refused placeholder itself


class SettingsError(ValueError):
    """Settings that must not be used as they are."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    project_dir: Path = Path(".")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file tidings.db in the project")
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    host: str = "127.0.0.1"
    port: int = 8025
    public_url: str | None = None
    workers: int = Field(default=2, ge=1, le=64, description="dispatcher threads per process")
    poll_interval_seconds: float = 0.2
    lease_seconds: float = Field(default=60.0, gt=0,
                                 description="how long a claimed batch stays leased to one worker")
    maintenance_interval_seconds: float = Field(default=5.0, gt=0)
    max_body_bytes: int = 5_000_000
    max_batch_events: int = 1000
    idempotency_ttl_hours: int = Field(default=24, ge=24)
    log_level: str = "info"
    sqlite_synchronous: Literal["FULL", "NORMAL", "EXTRA"] = "FULL"
    redis_url: str | None = None
    amqp_url: str | None = None

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if self.environment == "development":
            return self
        secret = self.secret_key.get_secret_value()
        if secret.lower() in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_CHARS:
            raise SettingsError(
                f"TIDINGS_SECRET_KEY is a placeholder or shorter than {MIN_SECRET_CHARS} "
                f"characters; set a random secret for environment={self.environment!r}")
        return self

    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.project_dir / 'tidings.db').resolve()}"
