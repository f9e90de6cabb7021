"""Sentra's judge against the incumbents' rules on the simulator's scenario matrix.

    .venv/bin/python benchmarks/detection.py [--aa-runs 500] [--runs 40] [--workers 2]

Measurements (all rules see the same seeds):
  A  detection: canary weight held at 5 % (~20 canary req/s), fault onset uniform in [30, 90] s;
     delay = rollback time - onset.
  B  closed loop, bad release (fault from t=0, the rule's weights applied): excess failed
     requests served by the canary before the rollback, and how often a bad canary is promoted.
  C  closed loop A/A per noise shape: false rollback rate, time to full promotion.
  D  environment incident (both cohorts, onset 60 s, 180 s): runs that did not roll back.
"""

from __future__ import annotations

import argparse
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).parent))
from harness import RULES, RunResult, run_once, with_onset
from report import write_report

from sentra_ml.simulate import scenario_library

FAULTS = ("error_step", "latency_shift", "tail_latency", "slow_drift", "bursts")
CLOSED_FAULTS = (*FAULTS, "saturation")
AA = ("aa", "aa_heavy_tail", "aa_low_traffic", "aa_diurnal", "aa_buckets")
HORIZON = 1800.0


def jobs(aa_runs: int, runs: int) -> list[tuple[str, tuple[object, ...]]]:
    """(measurement, run_once arguments) for the whole matrix, deterministic."""
    lib = scenario_library(onset=0.0)
    rng = np.random.default_rng(2026)
    out: list[tuple[str, tuple[object, ...]]] = []
    for name in FAULTS:
        for seed in range(runs):
            scenario = with_onset(lib[name], float(rng.uniform(30.0, 90.0)))
            for rule in RULES:
                out.append(("A", (rule, scenario, seed, scenario.fault.onset + HORIZON, 5.0)))
    for name in CLOSED_FAULTS:
        for seed in range(runs):
            for rule in RULES[:4]:
                out.append(("B", (rule, lib[name], 1000 + seed, HORIZON)))
    for name in AA:
        for seed in range(aa_runs):
            for rule in RULES[:4]:
                if rule == "sentra" or seed < runs:
                    out.append(("C", (rule, lib[name], 2000 + seed, HORIZON)))
    env = scenario_library(onset=60.0)["environment_incident"]
    for seed in range(runs):
        for rule in RULES[:4]:
            out.append(("D", (rule, env, 3000 + seed, 300.0, None, (60.0, 300.0))))
    return out


def _run(job: tuple[str, tuple[object, ...]]) -> tuple[str, RunResult | None]:
    measurement, args = job
    return measurement, run_once(*args)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aa-runs", type=int, default=500)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    work = jobs(args.aa_runs, args.runs)
    results: dict[str, list[RunResult]] = {"A": [], "B": [], "C": [], "D": []}
    started = time.perf_counter()
    with Pool(args.workers) as pool, Progress() as progress:
        task = progress.add_task("scenario matrix", total=len(work))
        for measurement, result in pool.imap_unordered(_run, work, chunksize=4):
            if result is not None:
                results[measurement].append(result)
            progress.advance(task)
    config = {
        "aa_runs": args.aa_runs,
        "runs": args.runs,
        "dt_seconds": 2.0,
        "horizon_seconds": HORIZON,
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    write_report(results, config, args.out, Console())


if __name__ == "__main__":
    main()
