"""What the service learner adds to the judge, and what it costs per service.

    .venv/bin/python benchmarks/learner.py [--runs 20] [--workers 2] [--out benchmarks/results]

Part 1, closed loop (each rule's own steps, horizon 1800 s, the same seeds for both rules): the
judge alone, and the judge with the service's learner after 26 h of the scenario's baseline.
Part 2, cost: learner windows per second on one core, checkpoint bytes and heap per service.
Writes learner.md, learner.json and learner.png.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import tracemalloc
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.progress import track  # noqa: E402

from benchmarks.harness import Job, RunResult, run  # noqa: E402
from benchmarks.plot import grouped_bars  # noqa: E402
from benchmarks.rules import HISTORY_HOURS, LEARNER_RULES  # noqa: E402
from sentra_ml.analysis.judge.normal import ServiceNormal, service_learner  # noqa: E402
from sentra_ml.analysis.types.labels import Cohort  # noqa: E402
from sentra_ml.analysis.types.samples import Sample  # noqa: E402
from sentra_ml.simulate import (  # noqa: E402
    EnvironmentIncident,
    Simulator,
    default_spec,
    scenario_library,
)

SCENARIOS = (
    "aa",
    "aa_diurnal",
    "aa_heavy_tail",
    "error_step",
    "bursts",
    "saturation",
    "environment_incident",
    "incident_at_start",
)


def _incident(name: str) -> tuple[float, float] | None:
    fault = scenario_library()[name].fault
    if isinstance(fault, EnvironmentIncident):
        return fault.onset, fault.onset + fault.duration
    return None


def _run(job: Job) -> RunResult | None:
    return run(job)


def _row(scenario: str, rule: str, rs: list[RunResult]) -> dict[str, Any]:
    decided = [r.decided_at for r in rs if r.rolled_back or r.promoted]
    window = _incident(scenario)
    row: dict[str, Any] = {
        "scenario": scenario,
        "rule": rule,
        "runs": len(rs),
        "rolled_back": sum(r.rolled_back for r in rs) / len(rs),
        "promoted": sum(r.promoted for r in rs) / len(rs),
        "median_decision_s": statistics.median(decided) if decided else None,
        "excess_failed": statistics.mean(r.excess_failed for r in rs),
        "baseline_flagged": sum("baseline" in r.flagged for r in rs) / len(rs),
        "canary_flagged": sum("canary" in r.flagged for r in rs) / len(rs),
    }
    if window is not None:
        row["paused_in_incident"] = sum(r.paused for r in rs) / len(rs)
        row["promoted_in_incident"] = sum(
            r.promoted and r.decided_at < window[1] for r in rs
        ) / len(rs)
    return row


def closed_loop(runs: int, workers: int, console: Console) -> list[dict[str, Any]]:
    jobs = []
    for scenario in SCENARIOS:
        window = _incident(scenario)
        pause = None if window is None else (max(window[0], 0.0), window[1])
        for rule in LEARNER_RULES:
            for i in range(runs):
                measurement = "C" if scenario.startswith("aa") else "B"
                jobs.append(Job(measurement, rule, scenario, 60_000 + i, 1800.0, None, None, pause))
    cells: dict[tuple[str, str], list[RunResult]] = defaultdict(list)
    with Pool(workers) as pool:
        for result in track(pool.imap_unordered(_run, jobs), total=len(jobs), console=console):
            if result is not None:
                cells[(result.scenario, result.rule)].append(result)
    return [_row(s, rule, cells[(s, rule)]) for s in SCENARIOS for rule in LEARNER_RULES]


def _learn(windows: list[tuple[float, list[Sample]]]) -> ServiceNormal:
    normal = ServiceNormal(default_spec(), service_learner())
    for ts, samples in windows:
        for sample in samples:
            normal.observe(sample)
        normal.close(ts)
    return normal


def cost(hours: float = HISTORY_HOURS) -> dict[str, float]:
    """Windows per second through one service's learner (score, then learn), and its size
    after `hours` of windows (the yesterday view keeps a day of values)."""
    sim = Simulator(scenario_library()["aa"], 1)
    windows = []
    for k in range(round(hours * 360)):
        window = [s for s in sim.tick(10.0 * k, 10.0, 0.0) if s.cohort is Cohort.BASELINE]
        windows.append((10.0 * (k + 1), window))
    _learn(windows[:100])  # imports and first-use costs stay out of both measurements
    started = time.perf_counter()
    normal = _learn(windows)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    traced = _learn(windows)
    heap = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    n = normal.learner.n
    return {
        "windows": n,
        "windows_per_s": n / seconds,
        # one window per service every 10 s: how many services one core keeps up with
        "services_per_core": n / seconds * 10.0,
        "checkpoint_bytes": len(traced.learner.to_bytes()),
        "heap_bytes": heap,
    }


def _table(rows: list[dict[str, Any]]) -> str:
    heads = [
        "scenario", "rule", "runs", "rolled back", "promoted", "median s to decision",
        "excess failed", "baseline flagged", "canary flagged", "paused in incident",
        "promoted in incident",
    ]  # fmt: skip
    lines = ["| " + " | ".join(heads) + " |", "|---|---|" + "--:|" * (len(heads) - 2)]
    for r in rows:
        median = "" if r["median_decision_s"] is None else f"{r['median_decision_s']:.0f}"
        incident = [f"{r[k]:.0%}" if k in r else "" for k in ("paused_in_incident",
                                                              "promoted_in_incident")]  # fmt: skip
        cells = [
            r["scenario"], r["rule"], str(r["runs"]), f"{r['rolled_back']:.0%}",
            f"{r['promoted']:.0%}", median, f"{r['excess_failed']:.1f}",
            f"{r['baseline_flagged']:.0%}", f"{r['canary_flagged']:.0%}", *incident,
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results")
    args = parser.parse_args()
    console = Console()
    rows = closed_loop(args.runs, args.workers, console)
    table = _table(rows)
    console.print(table)
    price = cost()
    cost_text = (
        f"One service learner: {price['windows_per_s']:,.0f} windows/s on one core (score, then "
        f"learn), so one core keeps up with {price['services_per_core']:,.0f} services at one "
        f"window per 10 s; checkpoint {price['checkpoint_bytes'] / 1024:.0f} KiB, heap "
        f"{price['heap_bytes'] / 1024:.0f} KiB after {price['windows']} windows."
    )
    console.print(cost_text)
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/learner.py " + " ".join(sys.argv[1:])
    (args.out / "learner.md").write_text(
        f"# The judge with and without the service learner ({HISTORY_HOURS:.0f} h of history)"
        f"\n\n`{command.strip()}`\n\n{table}\n\n{cost_text}\n"
    )
    (args.out / "learner.json").write_text(json.dumps({"rows": rows, "cost": price}, indent=1))
    grouped_bars(
        rows, SCENARIOS, LEARNER_RULES,
        [("median_decision_s", "median s to rollback / promotion"),
         ("paused_in_incident", "share of runs paused during the incident")],
        args.out / "learner.png",
    )  # fmt: skip


if __name__ == "__main__":
    main()
