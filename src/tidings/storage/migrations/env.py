"""Alembic environment: runs migrations on the connection Tidings hands in."""

from __future__ import annotations

from alembic import context

from tidings.storage import tables

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when alembic is run by hand
    raise RuntimeError("run migrations through `tidings db upgrade`")
context.configure(connection=connection, target_metadata=tables.metadata,
                  render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
with context.begin_transaction():
    context.run_migrations()
