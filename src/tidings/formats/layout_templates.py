"""The documented example layouts that ``tidings layout template`` prints.

Each template is a complete, valid layout of a multi-record order file whose
comment shows sample lines (``#   HDR...``); ``sample_lines`` returns them,
so the templates are tested by decoding their own samples.
"""

from __future__ import annotations

from importlib import resources

__all__ = ["TEMPLATES", "sample_lines", "template_text"]

TEMPLATES = {"fixed_width": "orders_fixed_width.yaml", "delimited": "orders_delimited.yaml"}
SAMPLE_PREFIX = "#   "


def template_text(kind: str = "fixed_width") -> str:
    """The YAML text of the template for ``kind`` (``fixed_width`` or ``delimited``)."""
    if kind not in TEMPLATES:
        raise ValueError(f"no template for {kind!r}; choose from {', '.join(TEMPLATES)}")
    return (resources.files("tidings.formats") / "templates" / TEMPLATES[kind]).read_text(
        encoding="utf-8")


def sample_lines(kind: str = "fixed_width") -> list[str]:
    """The sample file lines shown in the template's leading comment."""
    return [line[len(SAMPLE_PREFIX):] + "\n" for line in template_text(kind).splitlines()
            if line.startswith(SAMPLE_PREFIX)]
