"""What the forecast holds add to the judge: the same runs with and without them.

    .venv/bin/python benchmarks/ablation.py [--runs 30] [--workers 2] [--out benchmarks/results]

Closed loop (each rule's own steps, horizon 1800 s) on the simulator's slow leak, error step and
three A/A shapes; the same seeds for both rules. Writes ablation.md, ablation.json and
ablation.png.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.progress import track  # noqa: E402

from benchmarks.harness import Job, RunResult, run  # noqa: E402
from benchmarks.plot import grouped_bars  # noqa: E402
from benchmarks.rules import ABLATIONS  # noqa: E402

SCENARIOS = ("slow_drift", "error_step", "aa", "aa_diurnal", "aa_heavy_tail")


def _run(job: Job) -> RunResult | None:
    return run(job)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results")
    args = parser.parse_args()
    jobs = [
        Job("C" if scenario.startswith("aa") else "B", rule, scenario, 50_000 + i, 1800.0)
        for scenario in SCENARIOS
        for rule in ABLATIONS
        for i in range(args.runs)
    ]
    console = Console()
    cells: dict[tuple[str, str], list[RunResult]] = defaultdict(list)
    with Pool(args.workers) as pool:
        for result in track(pool.imap_unordered(_run, jobs), total=len(jobs), console=console):
            if result is not None:
                cells[(result.scenario, result.rule)].append(result)
    heads = ["scenario", "rule", "runs", "rolled back", "promoted", "median s to decision"]
    lines = ["| " + " | ".join(heads) + " |", "|---|---|--:|--:|--:|--:|"]
    rows = []
    for scenario in SCENARIOS:
        for rule in ABLATIONS:
            rs = cells[(scenario, rule)]
            times = [r.decided_at for r in rs if r.rolled_back or r.promoted]
            row = {
                "scenario": scenario,
                "rule": rule,
                "runs": len(rs),
                "rolled_back": sum(r.rolled_back for r in rs) / len(rs),
                "promoted": sum(r.promoted for r in rs) / len(rs),
                "median_decision_s": statistics.median(times) if times else None,
            }
            rows.append(row)
            median = "" if row["median_decision_s"] is None else f"{row['median_decision_s']:.0f}"
            lines.append(
                f"| {scenario} | {rule} | {len(rs)} | {row['rolled_back']:.0%} | "
                f"{row['promoted']:.0%} | {median} |"
            )
    table = "\n".join(lines)
    console.print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/ablation.py " + " ".join(sys.argv[1:])
    (args.out / "ablation.md").write_text(
        f"# The judge with and without forecast holds\n\n`{command.strip()}`\n\n{table}\n"
    )
    (args.out / "ablation.json").write_text(json.dumps(rows, indent=1))
    grouped_bars(
        rows, SCENARIOS, ABLATIONS,
        [("rolled_back", "share of runs rolled back"),
         ("median_decision_s", "median s to rollback / promotion")],
        args.out / "ablation.png",
    )  # fmt: skip


if __name__ == "__main__":
    main()
