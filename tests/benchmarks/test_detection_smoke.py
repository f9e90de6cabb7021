"""The detection benchmark on a tiny matrix, in-process: its runs, numbers and files are
well-formed. (The real benchmark is `benchmarks/detection.py`; it is far too long for tests.)"""

from __future__ import annotations

import dataclasses
import io
import json
import math
from pathlib import Path

from rich.console import Console

from benchmarks.detection import benchmark
from benchmarks.harness import Job, run
from benchmarks.matrix import MatrixConfig, build_jobs
from benchmarks.rules import oracle_config
from sentra_ml.simulate import scenario_library

TINY = MatrixConfig(
    aa_runs=1,
    runs=1,
    faults=("error_step",),
    closed_faults=("error_step",),
    aa_shapes=("aa",),
    horizon=200.0,
)


def test_oracle_is_told_the_true_fault() -> None:
    lib = scenario_library()
    errors = oracle_config(lib["error_step"])
    assert errors is not None and (errors.bad, errors.base, errors.threshold_ms) == (
        0.03,
        0.01,
        None,
    )
    for name in ("latency_shift", "tail_latency"):
        cfg = oracle_config(lib[name])
        assert cfg is not None and cfg.threshold_ms is not None and cfg.bad > cfg.base > 0
    for name in ("slow_drift", "bursts", "saturation", "aa", "environment_incident"):
        assert oracle_config(lib[name]) is None


def test_matrix_is_deterministic_and_paired() -> None:
    jobs = build_jobs(TINY)
    assert jobs == build_jobs(TINY)
    a = [j for j in jobs if j.measurement == "A"]
    assert {j.rule for j in a} == {"sentra", "sentra_hold", "kayenta", "flagger", "argo", "oracle"}
    assert len({(j.seed, j.onset) for j in a}) == 1  # every rule sees the same run
    assert a[0].onset is not None and 30.0 <= a[0].onset <= 90.0
    assert {j.rule for j in jobs if j.measurement in "CD"} == {
        "sentra",
        "kayenta",
        "flagger",
        "argo",
    }
    job = Job("B", "oracle", "error_step", 7, 60.0, 0.0)
    first, again = run(job), run(job)
    assert first is not None and again is not None
    assert dataclasses.replace(first, cpu_seconds=0) == dataclasses.replace(again, cpu_seconds=0)


def test_tiny_benchmark_writes_tables_json_and_plot(tmp_path: Path) -> None:
    out = io.StringIO()
    summary, checks = benchmark(TINY, 1, tmp_path, Console(file=out, width=200))
    a = {r["rule"]: r for r in summary["A"]}
    assert set(a) == {"sentra", "sentra_hold", "kayenta", "flagger", "argo", "oracle"}
    assert a["oracle"]["detected"] == 1.0 and 0 < float(a["oracle"]["median_delay_s"]) < 200
    assert {r["rule"] for r in summary["B"]} == set(a) - {"sentra_hold"}
    (c_sentra,) = (r for r in summary["C"] if r["rule"] == "sentra")
    assert 0 < float(c_sentra["false_rollback_upper95"]) <= 1
    assert len(summary["D"]) == 4 and all(0 <= float(r["no_rollback"]) <= 1 for r in summary["D"])
    assert {c.status for c in checks} <= {"PASS", "FAIL", "N/A"}
    assert any("A/A false rollbacks" in c.name and c.status == "FAIL" for c in checks)  # 1 < 500

    md = (tmp_path / "detection.md").read_text()
    for heading in ("## A.", "## B.", "## C.", "## D.", "## Ratios", "## Targets", "## Notes"):
        assert heading in md
    assert "| error_step | sentra |" in md and "| aa | sentra |" in md
    report = json.loads((tmp_path / "detection.json").read_text())
    assert {"config", "summary", "ratios_vs_sentra", "targets", "runs"} <= report.keys()
    assert report["config"]["versions"]["sentra-ml"]
    runs = report["runs"]
    assert len(runs["rows"]) == report["config"]["runs_total"] == len(build_jobs(TINY))
    assert all(len(row) == len(runs["fields"]) for row in runs["rows"])
    png = (tmp_path / "detection.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert "PASS" in out.getvalue() or "FAIL" in out.getvalue()
    assert not any(
        isinstance(v, float) and math.isnan(v) for v in report["summary"]["A"][0].values()
    )
