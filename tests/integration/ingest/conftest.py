"""A copy of the ingest test project, a runtime on it, and its pipeline."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import make_runtime
from tidings.clock import FakeClock
from tidings.ingest.pipeline import Pipeline
from tidings.ingest.sources.runner import pipeline_of
from tidings.runtime.core import Runtime

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ingest"


@pytest.fixture
def ingest_project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    shutil.copytree(FIXTURES / "project", folder)
    return folder


@pytest.fixture
def runtime(ingest_project: Path, db_url: str, clock: FakeClock) -> Iterator[Runtime]:
    rt = make_runtime(ingest_project, db_url, clock)
    yield rt
    rt.close()


@pytest.fixture
def pipeline(runtime: Runtime) -> Pipeline:
    return pipeline_of(runtime)
