"""SQL storage: tables, engines, migrations, and the SQL side of each port.

In: a database URL. Out: an ``Engine`` whose transactions are safe for the
outbox discipline (SQLite: WAL and ``BEGIN IMMEDIATE``; PostgreSQL: row locks
with SKIP LOCKED), the table definitions, and Alembic migrations.
Never decides business outcomes; callers pass ``now`` in.
"""
