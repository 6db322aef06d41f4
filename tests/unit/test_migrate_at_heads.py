"""Starting on an up-to-date database does not import alembic; anything else still migrates."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import create_engine, text

from tidings.storage import migrate

UPGRADE = """
    import sys
    from sqlalchemy import create_engine
    from tidings.storage import migrate
    migrate.upgrade(create_engine(sys.argv[1]))
    print("alembic" in sys.modules)
"""


def upgrade_in_child(url: str) -> bool:
    """Whether a fresh process that upgrades ``url`` had to import alembic."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(UPGRADE), url],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip() == "True"


def test_heads_read_from_the_files_are_alembics_heads() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert migrate.heads_on_disk() == frozenset(script.get_heads())


def test_only_a_database_behind_the_heads_imports_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tidings.db'}"
    assert upgrade_in_child(url) is True  # empty database: migrations run
    assert upgrade_in_child(url) is False  # at the heads: nothing to do, alembic not imported
    engine = create_engine(url)
    with engine.begin() as conn:  # one branch head missing, as after a release adds one
        conn.execute(text("DELETE FROM alembic_version WHERE version_num = '0006'"))
        conn.execute(text("DROP TABLE portal_sessions"))
        conn.execute(text("DROP TABLE portal_users"))
    assert upgrade_in_child(url) is True
    with engine.connect() as conn:
        versions = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        tables = set(conn.execute(text("SELECT name FROM sqlite_master")).scalars())
    engine.dispose()
    assert versions == migrate.heads_on_disk()
    assert "portal_sessions" in tables
    assert migrate.differences(create_engine(url)) == []
