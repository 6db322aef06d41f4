"""A problem found in a project, with the file and line it is on."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Problem", "ProjectInvalid"]


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class ProjectInvalid(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
