"""Read ``tidings.toml`` into a ``ProjectConfig``, or say where it is wrong."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from tidings.project.locate import locate
from tidings.project.model import ProjectConfig
from tidings.project.problems import Problem

__all__ = ["CONFIG_FILE", "read"]

CONFIG_FILE = "tidings.toml"


def read(project_dir: Path) -> tuple[ProjectConfig | None, list[Problem]]:
    path = project_dir / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [Problem(CONFIG_FILE, None, f"not found in {project_dir}; "
                              "run `tidings init DIR` to make a project")]
    except UnicodeDecodeError as exc:
        return None, [Problem(CONFIG_FILE, None, f"not UTF-8: {exc}")]
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [Problem(CONFIG_FILE, _toml_line(exc), f"TOML syntax: {exc}")]
    try:
        return ProjectConfig.model_validate(raw), []
    except ValidationError as exc:
        return None, [_problem(text, err) for err in exc.errors()]


def _problem(text: str, error: object) -> Problem:
    assert isinstance(error, dict)
    loc = tuple(error.get("loc", ()))
    where = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc)
    return Problem(CONFIG_FILE, locate(text, loc), f"{where}: {error.get('msg')}")


def _toml_line(exc: tomllib.TOMLDecodeError) -> int | None:
    # "... (at line 3, column 7)"
    message = str(exc)
    marker = "at line "
    if marker not in message:
        return None
    digits = message.split(marker, 1)[1].split(",", 1)[0].rstrip(")")
    return int(digits) if digits.isdigit() else None
