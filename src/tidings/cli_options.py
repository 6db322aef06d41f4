"""Click options that can also come from the environment, and say so in --help."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

__all__ = ["env_option"]


def env_option(*decls: str, envvar: str, **kwargs: Any) -> Callable[[Any], Any]:
    """A click option whose value may come from ``envvar``, named in ``--help``."""
    return click.option(*decls, envvar=envvar, show_envvar=True, **kwargs)
