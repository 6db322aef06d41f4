"""Fixtures of the sla integration tests: a runtime on a fake clock, an operator client,
and party clients built from party keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.helpers import TENANT, make_runtime
from tidings.api.app import create_app
from tidings.clock import FakeClock
from tidings.runtime.core import Runtime
from tidings.sla.parties import PartyKind, Viewer


@pytest.fixture
def runtime(project_dir: Path, db_url: str, clock: FakeClock) -> Iterator[Runtime]:
    runtime = make_runtime(project_dir, db_url, clock)
    runtime.sla.run_jobs_immediately()
    yield runtime
    runtime.close()


@pytest.fixture
def operator() -> Viewer:
    return Viewer.operator(TENANT)


@pytest.fixture
def app_client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as client:
        yield client


@pytest.fixture
def client(runtime: Runtime, app_client: TestClient) -> TestClient:
    """The operator's client (a tenant key)."""
    key = runtime.keys.create(TENANT, "operator", runtime.clock.now())
    app_client.headers["Authorization"] = f"Bearer {key}"
    return app_client


@pytest.fixture
def party_headers(runtime: Runtime) -> Callable[[str, str], dict[str, str]]:
    def make(kind: str, party: str) -> dict[str, str]:
        key = runtime.sla.service.create_party_key(TENANT, PartyKind(kind), party)
        return {"Authorization": f"Bearer {key}"}
    return make
