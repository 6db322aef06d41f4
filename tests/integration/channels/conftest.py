"""A runtime whose project has a second email provider and a failover channel, and its API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.helpers import TENANT, make_runtime
from tests.integration.channels.projects import FAILOVER, add_to_project
from tidings.api.app import create_app
from tidings.clock import FakeClock
from tidings.runtime.core import Runtime


@pytest.fixture
def runtime(project_dir: Path, db_url: str, clock: FakeClock) -> Iterator[Runtime]:
    add_to_project(project_dir, FAILOVER)
    rt = make_runtime(project_dir, db_url, clock)
    yield rt
    rt.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    key = runtime.keys.create(TENANT, "test", runtime.clock.now())
    with TestClient(create_app(runtime)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {key}"
        yield test_client
