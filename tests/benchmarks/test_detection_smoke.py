"""The benchmark harness on a tiny matrix: its loop, its numbers and its files are well-formed."""

from __future__ import annotations

import io
import json
import math
import sys
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from harness import run_once, with_onset
from report import write_report

from sentra_ml.simulate import scenario_library


def test_tiny_matrix_writes_tables_json_and_plot(tmp_path: Path) -> None:
    lib = scenario_library(onset=0.0)
    bad = with_onset(lib["error_step"], 40.0)
    a = [run_once(rule, bad, 1, 400.0, 5.0) for rule in ("sentra", "oracle", "flagger")]
    assert all(r is not None for r in a)
    sentra = next(r for r in a if r and r.rule == "sentra")
    assert sentra.action == "rollback" and 0 < sentra.delay < 200
    assert run_once("oracle", lib["aa"], 1, 10.0) is None  # no true fault, no oracle
    c = run_once("sentra", lib["aa"], 2, 900.0)
    assert c is not None and c.action == "promote" and math.isfinite(c.decided_at)
    d = run_once("sentra", scenario_library(onset=60.0)["environment_incident"], 3, 200.0,
                 None, (60.0, 200.0))  # fmt: skip
    assert d is not None and d.action != "rollback" and d.paused
    results = {"A": [r for r in a if r], "B": [], "C": [c], "D": [d]}
    config = {"aa_runs": 1, "runs": 1, "wall_seconds": 0.0}
    write_report(results, config, tmp_path, Console(file=io.StringIO()))
    report = json.loads((tmp_path / "detection.json").read_text())
    assert {"config", "summary", "targets"} <= report.keys()
    assert "| error_step | sentra |" in (tmp_path / "detection.md").read_text()
    assert (tmp_path / "detection.png").stat().st_size > 10_000
