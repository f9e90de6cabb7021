"""Sentra's judge against Kayenta, Flagger, Argo Rollouts and an oracle SPRT, on the simulator.

    .venv/bin/python benchmarks/detection.py [--aa-runs 500] [--runs 100] [--workers 2]
                                              [--out benchmarks/results] [--quick]
    .venv/bin/python benchmarks/detection.py --from-json benchmarks/results/detection.json

A  detection: canary weight held at 5 % (~20 canary req/s), fault onset uniform in [30, 90] s.
B  closed loop, bad release (fault from t=0, the rule's own weights): harm before rollback.
C  closed loop A/A per noise shape: false rollbacks, time to full promotion.
D  environment incident (both cohorts): runs that pause instead of rolling back.
Writes detection.md, detection.json and detection.png to --out; prints the tables and targets.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import math
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402

from benchmarks.harness import DT, RunResult  # noqa: E402
from benchmarks.matrix import (  # noqa: E402
    AA_SHAPES,
    CLOSED_FAULTS,
    INCIDENT,
    SEED_BASE,
    MatrixConfig,
    build_jobs,
    run_matrix,
)
from benchmarks.plot import plot  # noqa: E402
from benchmarks.report import console_tables, markdown, print_targets, write_json  # noqa: E402
from benchmarks.rules import oracle_config  # noqa: E402
from benchmarks.summary import Summary, Target, ratios, summarise, targets  # noqa: E402
from sentra_ml.simulate import scenario_library  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--aa-runs", type=int, default=500, help="Sentra's A/A runs per shape")
    parser.add_argument("--runs", type=int, default=100, help="runs of every other cell")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--quick", action="store_true", help="a handful of runs (smoke test)")
    parser.add_argument(
        "--from-json", type=Path, help="no runs: re-summarise an earlier detection.json into --out"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.aa_runs, args.runs = 4, 3
    return args


def notes(cfg: MatrixConfig) -> list[str]:
    """What the tables mean and how the rules were set up; goes into the markdown."""
    lib = scenario_library()
    oracles = [
        f"`{name}`: " + (c.describe() if (c := oracle_config(lib[name])) else "n/a")
        for name in CLOSED_FAULTS
    ]
    lo, hi = cfg.incident_window()
    return [
        "Rules, a fresh instance per run, all with their defaults: sentra = "
        "`RolloutJudge(default_spec())`; kayenta = `Kayenta()`; flagger = `Flagger()`; argo = "
        "`ArgoRollouts()`; oracle = `OracleSPRT` told the true fault (Wald's SPRT, alpha 1 %). "
        "A only: sentra_hold = the same judge with its step schedule frozen "
        "(`StepPolicy(min_step_seconds=1e9, max_step_seconds=1e9)`), the detection speed of "
        "its tests alone; the targets use `sentra`.",
        f"Loop: every {DT:g} s one simulator tick, every sample to the rule, then "
        "`evaluate(t)`; the run stops at ROLLBACK, PROMOTE or the horizon. All rules of a cell "
        f"see the same seeds (A {SEED_BASE['A']}+i, B {SEED_BASE['B']}+i, C {SEED_BASE['C']}+i, "
        f"D {SEED_BASE['D']}+i).",
        "A: the harness holds the weight at 5 %, but every rule still walks its own schedule "
        "and may PROMOTE; a promotion ends the run undetected (column `promoted`, a count). "
        "Delay = rollback time - onset; a miss counts as infinite (`never`) in the median/p90.",
        "A: saturation is left out (below its 20 % knee weight it never triggers at 5 %); it "
        "is measured in B only.",
        "Oracle per fault (latency: the threshold maximising KL(q1||q0), exact exceedance "
        "probabilities of the service model): " + "; ".join(oracles) + ". slow_drift, bursts "
        "and saturation change over time or with the weight: no fixed-parameter SPRT, n/a. "
        "In B the oracle holds its own fixed 5 % weight (it has no schedule; an SPRT needs a "
        "fixed number of canary requests, so its harm hardly depends on the weight).",
        "B: `excess failed` is the simulator's ground truth (canary requests x error-ratio "
        "excess), so latency-only faults score 0 there: see `median canary requests` for "
        "the exposure. Promoted = the bad release went to 100 % (a miss).",
        "C: the upper bound is a one-sided 95 % Clopper-Pearson bound; time to promotion is "
        "the median over promoted runs; `issued PAUSE`: any PAUSE verdict in the run. Sentra "
        f"runs {cfg.aa_runs} A/A runs per shape, the incumbents {cfg.runs}.",
        f"D: window [{lo:g}, {hi + 60:g}] s; a run stops at {hi + 60:g} s. `no rollback` = "
        "no rollback inside the window (the brief's pause-instead-of-rollback rate); `PAUSE "
        f"during incident` = a PAUSE verdict in [{lo:g}, {hi:g}] s; `decided before onset` = "
        "runs promoted or rolled back before the incident began (they never saw it).",
    ]


def run_config(cfg: MatrixConfig, workers: int, wall: float, n_jobs: int) -> dict[str, object]:
    """Everything needed to reproduce the run: command, matrix, seeds, versions."""

    def git(*cmd: str) -> str:
        try:
            out = subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True)
            return out.stdout.strip()
        except OSError:
            return ""

    return {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "matrix": dataclasses.asdict(cfg),
        "seed_base": SEED_BASE,
        "workers": workers,
        "runs_total": n_jobs,
        "dt_seconds": DT,
        "wall_seconds": round(wall, 1),
        "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "versions": {
            "python": platform.python_version(),
            **{p: version(p) for p in ("sentra-ml", "numpy", "scipy", "matplotlib", "rich")},
            "git_commit": git("rev-parse", "HEAD"),
            "git_dirty": bool(git("status", "--porcelain", "--", "sentra_ml")),
        },
    }


def benchmark(
    cfg: MatrixConfig, workers: int, out: Path, console: Console
) -> tuple[Summary, list[Target]]:
    """Run the matrix, print the tables and targets, write detection.{md,json,png} to `out`."""
    jobs = build_jobs(cfg)
    console.print(f"{len(jobs)} runs on {workers} worker(s)", highlight=False)
    started = time.perf_counter()
    results = run_matrix(jobs, workers, console)
    config = run_config(cfg, workers, time.perf_counter() - started, len(jobs))
    return publish(results, cfg, config, out, console)


def publish(
    results: list[RunResult],
    cfg: MatrixConfig,
    config: dict[str, object],
    out: Path,
    console: Console,
) -> tuple[Summary, list[Target]]:
    """Summaries, console tables, targets and the three files, from the runs' results."""
    order = [*CLOSED_FAULTS, *AA_SHAPES, INCIDENT]
    summary = summarise(results, cfg.incident_window(), order)
    ratio_rows = ratios(summary)
    checks = targets(summary)
    console_tables(summary, ratio_rows, console)
    print_targets(checks, console)
    versions, wall = config["versions"], float(str(config["wall_seconds"]))
    assert isinstance(versions, dict)
    header = [
        f"`{config['command']}`: {len(results)} runs, {wall / 60:.1f} min wall on "
        f"{config['workers']} worker(s) ({config['finished_utc']}; sentra-ml "
        f"{versions['sentra-ml']}, commit {str(versions['git_commit'])[:10]})."
    ]
    out.mkdir(parents=True, exist_ok=True)
    (out / "detection.md").write_text(markdown(summary, ratio_rows, checks, header, notes(cfg)))
    write_json(out / "detection.json", config, summary, ratio_rows, checks, results)
    plot(summary, results, out / "detection.png")
    console.print(f"wrote {out}/detection.{{md,json,png}} ({wall / 60:.1f} min of runs)")
    return summary, checks


def load(path: Path) -> tuple[list[RunResult], MatrixConfig, dict[str, object]]:
    """The runs and configuration of an earlier detection.json (null times are infinite)."""
    doc = json.loads(path.read_text())
    fields, rows = doc["runs"]["fields"], doc["runs"]["rows"]
    results = []
    for row in rows:
        values: dict[str, Any] = {
            f: (math.inf if v is None else v) for f, v in zip(fields, row, strict=True)
        }
        results.append(RunResult(**values))
    matrix: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in doc["config"]["matrix"].items()
    }
    return results, MatrixConfig(**matrix), doc["config"]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # a log file gets wide tables instead of rich's 80 columns, and its progress lines at once
    if not sys.stdout.isatty() and isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    console = Console() if sys.stdout.isatty() else Console(width=200)
    if args.from_json is not None:
        publish(*load(args.from_json), args.out, console)
        return
    cfg = MatrixConfig(aa_runs=args.aa_runs, runs=args.runs)
    benchmark(cfg, args.workers, args.out, console)


if __name__ == "__main__":
    main()
