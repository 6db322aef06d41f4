"""Heavy packages stay out of the API and worker processes until something needs them.

Each of these cost the API and every worker resident memory for nothing (together
~25 MB of the import of ``tidings.api.app``): alembic (only migrations), the CEL
package's command-line tool (typer, rich, prompt_toolkit), Pillow (report charts),
holidays (calendars naming a country), dkimpy/dnspython (DKIM keys), python-jsonschema
(a broken message-type schema) and cryptography.x509 (SNS certificates).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

HEAVY = ("alembic", "cel.cli", "typer", "prompt_toolkit", "PIL", "holidays", "dkim", "dns")
HEAVY_IN_A_RUNTIME = (*HEAVY, "jsonschema", "cryptography.x509",
                      "cryptography.hazmat.primitives.ciphers.aead")
# the client libraries of the kinds of source (SFTP, S3 and SQS, RabbitMQ)
SOURCE_CLIENTS = ("asyncssh", "boto3", "botocore", "aio_pika")


def loaded(code: str, *args: str) -> set[str]:
    """The modules of ``HEAVY_IN_A_RUNTIME`` and ``SOURCE_CLIENTS`` loaded once ``code``
    has run in a fresh process."""
    script = textwrap.dedent(code) + textwrap.dedent(f"""
        import json, sys
        print(json.dumps([m for m in {(*HEAVY_IN_A_RUNTIME, *SOURCE_CLIENTS)!r}
                          if m in sys.modules]))
    """)
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def scaffolded(tmp_path: Path) -> tuple[Path, str]:
    """A scaffold project and its SQLite database at the latest schema."""
    project, url = tmp_path / "project", f"sqlite:///{tmp_path / 'tidings.db'}"
    for command in (["init", str(project)], ["--project", str(project), "--database-url", url,
                                              "db", "upgrade"]):
        subprocess.run([sys.executable, "-m", "tidings", *command], check=True,
                       capture_output=True, timeout=120)
    return project, url


def test_importing_the_api_app_loads_none_of_the_heavy_packages() -> None:
    assert loaded("import tidings.api.app") & set(HEAVY) == set()


def test_a_worker_runtime_on_an_up_to_date_database_loads_none_of_them(tmp_path: Path) -> None:
    project, url = scaffolded(tmp_path)
    found = loaded("""
        import sys
        from tidings.runtime.core import Runtime
        from tidings.settings import Settings
        runtime = Runtime(Settings(project_dir=sys.argv[1], database_url=sys.argv[2]))
        runtime.migrate()
        runtime.delivery()
        assert runtime.project.config.rules, "the scaffold project has rules to compile"
        runtime.close()
    """, str(project), url)
    assert found == set()


def test_the_source_decoders_load_python_jsonschema_only_to_check_a_record() -> None:
    assert "jsonschema" not in loaded("import tidings.ingest.sources.rabbitmq, tidings.api.app")
    assert "jsonschema" in loaded("""
        from tidings.formats.json_schema import compile_schema
        assert compile_schema({"type": "object"}).check([], "line 1") is not None
    """)


def test_a_source_loads_the_client_library_of_its_own_kind_only(tmp_path: Path) -> None:
    project, url = scaffolded(tmp_path)
    (project / "drop").mkdir()
    build = """
        import asyncio, sys
        from tidings.ingest.sources import config, runner
        from tidings.runtime.core import Runtime
        from tidings.settings import Settings
        runtime = Runtime(Settings(project_dir=sys.argv[1], database_url=sys.argv[2],
                                   amqp_url="amqp://guest:guest@127.0.0.1:5672/"))
        common = {"name": "s", "tenant": "acme", "message_type": "order.confirmed"}
        source = {"directory": config.DirectorySource(type="directory", path="drop", **common),
                  "rabbitmq": config.RabbitMqSource(type="rabbitmq", queue="q", **common)}
        built = asyncio.run(runner.SourceRunner(runtime).build(source[sys.argv[3]]))
        assert type(built).__name__ in ("DirectoryPoller", "RabbitMqConsumer"), built
    """
    assert loaded(build, str(project), url, "directory") & set(SOURCE_CLIENTS) == set()
    assert loaded(build, str(project), url, "rabbitmq") & set(SOURCE_CLIENTS) == {"aio_pika"}
