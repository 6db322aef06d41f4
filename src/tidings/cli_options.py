"""Click options that can also come from the environment, and say so in --help."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

__all__ = ["env_option", "root_context", "tenant_option"]


def env_option(*decls: str, envvar: str, **kwargs: Any) -> Callable[[Any], Any]:
    """A click option whose value may come from ``envvar``, named in ``--help``."""
    return click.option(*decls, envvar=envvar, show_envvar=True, **kwargs)


def root_context() -> Any:
    """The ``Context`` object the root ``tidings`` group made (project, database URL)."""
    return click.get_current_context().find_root().obj


def tenant_option(fn: Any) -> Any:
    """``--tenant/-t``, required, also from ``TIDINGS_TENANT``."""
    return env_option("--tenant", "-t", envvar="TIDINGS_TENANT", required=True,
                      help="Tenant id.")(fn)
