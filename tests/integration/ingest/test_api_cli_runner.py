"""Sources running in the background on their schedule; status and dead letters
through ``GET /v1/sources``, ``/v1/dead-letters`` and the ``sources`` / ``dlq`` commands."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from tests.helpers import make_runtime
from tidings.api.app import create_app
from tidings.cli import cli
from tidings.clock import FakeClock
from tidings.ingest.deadletters import SqlDeadLetters
from tidings.ingest.sources.status import SqlSourceStatus
from tidings.runtime.core import Runtime

REASONS = Path(__file__).parents[2] / "fixtures" / "ingest" / "reasons"
WAIT_SECONDS = 20.0
SOURCE = """
[[sources]]
name = "nightly"
type = "directory"
tenant = "acme"
message_type = "fw-orders"
path = "drop"
every = "00:00:00.200000"
"""


@pytest.fixture
def with_source(ingest_project: Path) -> Path:
    config = ingest_project / "tidings.toml"
    config.write_text(config.read_text() + SOURCE)
    (ingest_project / "drop").mkdir()
    return ingest_project


def wait_until(check: object) -> None:
    end = time.monotonic() + WAIT_SECONDS
    while not check():  # type: ignore[operator]
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def run_background(project: Path, db_url: str, clock: FakeClock) -> Runtime:
    runtime = make_runtime(project, db_url, clock)
    background = runtime.start(workers=0)
    try:
        shutil.copy(REASONS / "bad_value.txt", project / "drop" / "batch.txt")
        wait_until(lambda: (project / "drop" / "failed" / "batch.txt.result.ndjson").exists())
        status = SqlSourceStatus(runtime.engine)
        wait_until(lambda: any(r.accepted == 2 for r in status.list()))
    finally:
        background.shutdown(5)
    return runtime


def test_background_runs_the_source_and_the_api_shows_it(
        with_source: Path, db_url: str, clock: FakeClock) -> None:
    runtime = run_background(with_source, db_url, clock)
    key = runtime.keys.create("acme", "test", clock.now())
    with TestClient(create_app(runtime)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        (source,) = client.get("/v1/sources").json()["sources"]
        assert (source["name"], source["type"], source["accepted"], source["dead_lettered"]) \
            == ("nightly", "directory", 2, 1)
        assert source["runs"] >= 1 and source["last_error"] is None
        assert source["next_run_at"] is not None
        (letter,) = client.get("/v1/dead-letters").json()["dead_letters"]
        assert (letter["reason"], letter["location"]) == (
            "bad_value", "record 4 (ORD) at line 4 field status")
        shown = client.get(f"/v1/dead-letters/{letter['id']}").json()
        assert "ORDBV-2" in shown["payload"]
        refused = client.post(f"/v1/dead-letters/{letter['id']}/replay")
        assert refused.status_code == 422
        assert refused.json()["type"].endswith("/replay-refused")
        fixed = shown["payload"].replace("ORDBV-2        Z", "ORDBV-2        N")
        done = client.post(f"/v1/dead-letters/{letter['id']}/replay", content=fixed)
        assert done.status_code == 200 and done.json()["status"] == "accepted"
        again = client.post(f"/v1/dead-letters/{letter['id']}/replay", content=fixed)
        assert again.status_code == 409
        other = runtime.keys.create("globex", "other", clock.now())
        client.headers["Authorization"] = f"Bearer {other}"
        assert client.get(f"/v1/dead-letters/{letter['id']}").status_code == 404
        assert client.get("/v1/sources").json()["sources"] == []
    runtime.close()


def test_cli_sources_and_dlq(with_source: Path, db_url: str, clock: FakeClock,
                             tmp_path: Path) -> None:
    runtime = run_background(with_source, db_url, clock)
    (letter,) = SqlDeadLetters(runtime.engine).list()
    runtime.close()
    env = {"TIDINGS_PROJECT_DIR": str(with_source), "TIDINGS_DATABASE_URL": db_url}
    runner = CliRunner()
    listed = runner.invoke(cli, ["sources"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "nightly\tdirectory\ttenant=acme" in listed.output
    assert "accepted=2 duplicates=0 dead_lettered=1" in listed.output
    dlq = runner.invoke(cli, ["dlq", "list"], env=env)
    assert f"{letter.id}\t" in dlq.output and "bad_value" in dlq.output
    shown = runner.invoke(cli, ["dlq", "show", str(letter.id)], env=env)
    assert '"reason": "bad_value"' in shown.output
    refused = runner.invoke(cli, ["dlq", "replay", str(letter.id)], env=env)
    assert refused.exit_code == 1 and "refused again: bad_value" in refused.output
    fixed = tmp_path / "fixed.txt"
    fixed.write_bytes(letter.payload.replace(b"ORDBV-2        Z", b"ORDBV-2        N"))
    done = runner.invoke(cli, ["dlq", "replay", str(letter.id), "--payload", str(fixed)],
                         env=env)
    assert done.exit_code == 0 and "accepted: event " in done.output
    assert runner.invoke(cli, ["dlq", "replay", str(letter.id)], env=env).exit_code == 1
    assert "no dead letters" in runner.invoke(cli, ["dlq", "list"], env=env).output
