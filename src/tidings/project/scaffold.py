"""``tidings init``: write a new project folder from the packaged example."""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["SOURCE", "write"]

SOURCE = Path(__file__).parent / "scaffold"


def write(directory: Path, force: bool = False) -> list[Path]:
    """Copy the example project into ``directory``; refuse a non-empty folder unless forced."""
    if directory.exists() and any(directory.iterdir()) and not force:
        raise FileExistsError(f"{directory} is not empty (use --force to write into it)")
    written = []
    for source in sorted(SOURCE.rglob("*")):
        if source.is_dir() or "__pycache__" in source.parts:
            continue
        target = directory / source.relative_to(SOURCE)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(target)
    return written
