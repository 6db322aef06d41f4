"""Sample data for a template preview: the latest real event that would use the template.

A template is rendered by the rules that name it, for their message types. The newest stored
event of one of those types (of the operator's tenant) is the most honest sample; when there
is none yet, a skeleton is built from the message type's JSON Schema (each required property
with a placeholder of its type), and failing that the sample is empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Engine, select

from tidings.project.compiled import CompiledProject
from tidings.project.model import ProjectConfig
from tidings.storage import tables

__all__ = ["locales_of", "message_types_of", "sample_for", "skeleton"]

E = tables.events
MAX_DEPTH = 6
_PLACEHOLDERS: dict[str, Any] = {"string": "text", "number": 12.5, "integer": 1,
                                 "boolean": True, "null": None}


def message_types_of(config: ProjectConfig, tenant: str, template: str) -> list[str]:
    return sorted({r.message_type for r in config.rules
                   if r.tenant == tenant and r.template == template})


def latest_event(engine: Engine, tenant: str, types: list[str]) -> dict[str, Any] | None:
    if not types:
        return None
    with engine.connect() as conn:
        raw = conn.execute(select(E.c.payload).where(E.c.tenant == tenant, E.c.type.in_(types))
                           .order_by(E.c.id.desc()).limit(1)).scalar()
    if raw is None:
        return None
    data = orjson.loads(raw)
    return data if isinstance(data, dict) else None


def skeleton(schema: Mapping[str, Any], depth: int = 0) -> Any:
    """A value that has every required property of ``schema``, with placeholders."""
    if depth > MAX_DEPTH:
        return None
    if schema.get("examples"):
        return schema["examples"][0]
    kind = schema.get("type", "object")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        props = schema.get("properties", {})
        return {name: skeleton(props.get(name, {}), depth + 1)
                for name in schema.get("required", list(props))}
    if kind == "array":
        items = schema.get("items", {})
        return [skeleton(items, depth + 1)] if isinstance(items, Mapping) else []
    if schema.get("enum"):
        return schema["enum"][0]
    return _PLACEHOLDERS.get(str(kind), "text")


def sample_for(engine: Engine, project: CompiledProject, tenant: str,
               template: str) -> tuple[dict[str, Any], str]:
    """The sample data and where it came from (shown next to the preview)."""
    types = message_types_of(project.config, tenant, template)
    event = latest_event(engine, tenant, types)
    if event is not None:
        return event, f"the latest {' or '.join(types)} event"
    for name in types:
        value = skeleton(_schema(project, tenant, name))
        if isinstance(value, dict) and value:
            return value, f"placeholders from the {name} schema"
    return {}, "no sample: no event and no schema yet"


def _schema(project: CompiledProject, tenant: str, message_type: str) -> dict[str, Any]:
    mtype = project.config.message_type(tenant, message_type)
    if mtype is None or not mtype.schema_:
        return {}
    try:
        schema = orjson.loads((project.root / mtype.schema_).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return schema if isinstance(schema, dict) else {}


def locales_of(root: Any, template: str) -> list[str]:
    folder = root / template
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
