"""Project file additions shared by the channels tests."""

from __future__ import annotations

from pathlib import Path

FAILOVER = """
[[providers]]
name = "capture-b"
channel = "email"
type = "capture"
bulk_size = 10

[[communication_channels]]
name = "mail"
channel = "email"
providers = ["capture", "capture-b"]
entity = "order"
"""


def add_to_project(project_dir: Path, text: str) -> None:
    path = project_dir / "tidings.toml"
    path.write_text(path.read_text() + text)
