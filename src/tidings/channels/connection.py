"""A provider's connection settings: its ``settings`` plus the issue's top-level fields.

``service_url``, ``user`` and ``secret_env`` (the name of the environment
variable holding the password or API key) are folded into the vendor
settings where a vendor module looks for them, without overriding what
``settings`` says itself: for SMTP ``smtp://host:port`` or
``smtps://host:port`` gives ``host``, ``port`` and ``security``; ``user`` gives
``username``; ``secret_env`` gives ``password_env``. Other vendors get
``url``, ``username`` and ``api_key_env``. Secrets stay in the environment:
this module handles names only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tidings.project.model import ProviderConfig

__all__ = ["clear_secrets", "merged_settings"]

_SMTP_SCHEMES = {"smtp": ("starttls", 587), "smtps": ("tls", 465)}
_SECRET_WORDS = ("password", "passwd", "secret", "token", "apikey", "api_key", "private_key",
                 "credential")
_REFERENCE_SUFFIXES = ("_env", "_file")


def clear_secrets(settings: dict[str, Any]) -> list[str]:
    """Settings keys that look like a secret given in clear (``auth_token``, ``smtp_password``)
    rather than as the name of an environment variable (``auth_token_env``) or a file."""
    return sorted(key for key in settings
                  if any(word in key.lower() for word in _SECRET_WORDS)
                  and not key.lower().endswith(_REFERENCE_SUFFIXES))


def merged_settings(config: ProviderConfig) -> dict[str, Any]:
    opts = dict(config.settings)
    if config.type == "smtp":
        return _smtp(config, opts)
    if config.service_url:
        opts.setdefault("url", config.service_url)
    if config.user:
        opts.setdefault("username", config.user)
    if config.secret_env:
        opts.setdefault("api_key_env", config.secret_env)
    return opts


def _smtp(config: ProviderConfig, opts: dict[str, Any]) -> dict[str, Any]:
    if config.service_url and "host" not in opts:
        url = urlsplit(config.service_url)
        security, port = _SMTP_SCHEMES.get(url.scheme, ("starttls", 587))
        opts["host"] = url.hostname or ""
        opts.setdefault("port", url.port or port)
        opts.setdefault("security", security)
    if config.user:
        opts.setdefault("username", config.user)
    if config.secret_env:
        opts.setdefault("password_env", config.secret_env)
    return opts
