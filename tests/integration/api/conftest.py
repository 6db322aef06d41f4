from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.helpers import TENANT, make_runtime
from tidings.api.app import create_app
from tidings.clock import FakeClock
from tidings.runtime.core import Runtime


@pytest.fixture
def runtime(project_dir: Path, db_url: str, clock: FakeClock) -> Iterator[Runtime]:
    runtime = make_runtime(project_dir, db_url, clock)
    yield runtime
    runtime.close()


@pytest.fixture
def api_key(runtime: Runtime) -> str:
    return runtime.keys.create(TENANT, "test", runtime.clock.now())


@pytest.fixture
def client(runtime: Runtime, api_key: str) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {api_key}"
        yield test_client
