"""The fixed-width benchmark script still runs, on a small file (the figures are for bench/)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "fixed_width_ingest.py"


def test_the_benchmark_decodes_its_whole_file(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("fixed_width_ingest", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--lines", "4003", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["lines"] == 4003
    assert result["events_ok"] == result["orders"] == 1000
    assert result["events_refused"] == 0
