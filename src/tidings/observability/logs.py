"""Structured logs: structlog, one JSON object per line, and no secret in any of them.

``configure(level)`` routes both structlog loggers and the standard library's
``logging`` (uvicorn, the dispatcher, every library) through one chain that
ends in ``JSONRenderer``: ``{"event": ..., "level": ..., "logger": ...,
"timestamp": ..., <fields>}``. Feedback and delivery lines carry the outbox
``message_id``.

The last step before rendering is :data:`REDACTOR`: a field whose name says
secret (password, secret, token, api_key, authorization, private_key,
credential) is replaced by ``[redacted]``, and so is every occurrence of a
registered secret value in any string, including a formatted exception. The
runtime registers the values it reads for the project (``*_env`` settings of
providers, the process secret, the database password) with ``protect``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any, TextIO
from urllib.parse import urlsplit

import structlog
from structlog.typing import EventDict, WrappedLogger

__all__ = ["REDACTED", "REDACTOR", "Redactor", "configure", "protect"]

REDACTED = "[redacted]"
MIN_SECRET_CHARS = 4
"""Shorter values are not registered: they would blank out ordinary words."""
SECRET_NAME = re.compile(r"pass(word|wd)?$|secret|token|api[_-]?key|authorization|"
                         r"private[_-]?key|credential", re.IGNORECASE)


class Redactor:
    """A structlog processor that blanks secrets by field name and by value."""

    def __init__(self) -> None:
        self._values: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add(self, values: Iterable[str | None]) -> None:
        fresh = {v for v in values if v and len(v) >= MIN_SECRET_CHARS}
        with self._lock:
            self._values = self._values | fresh

    def scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._values:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, Mapping):
            return {k: REDACTED if isinstance(k, str) and SECRET_NAME.search(k)
                    else self.scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        return value

    def __call__(self, logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
        return {k: REDACTED if SECRET_NAME.search(k) and k != "event" else self.scrub(v)
                for k, v in event.items()}


REDACTOR = Redactor()


def protect(project: Any, environ: Mapping[str, str], secret_key: str | None = None,
            database_url: str | None = None) -> None:
    """Register the secret values a runtime of ``project`` can see."""
    values: list[str | None] = [secret_key]
    for provider in getattr(project, "providers", []):
        names = [v for k, v in dict(provider.settings).items()
                 if k.endswith("_env") and isinstance(v, str)]
        names += [n for n in (getattr(provider, "secret_env", None),) if n]
        values += [environ.get(name) for name in names]
    if database_url:
        with contextlib.suppress(ValueError):
            values.append(urlsplit(database_url).password)
    REDACTOR.add(values)


def configure(level: str = "info", stream: TextIO | None = None) -> None:
    """JSON lines on ``stream`` (stderr) for structlog and stdlib loggers alike."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, REDACTOR,
                    structlog.processors.JSONRenderer()])
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
