"""Faults that start mid-rollout: the change-point judge, the cumulative one and two oracles.

    .venv/bin/python benchmarks/onsets.py [--runs 20] [--aa-runs 60] [--aa-hold-runs 40]
                                           [--workers 2] [--out benchmarks/results]

E  detection, weight held at 5 % (~20 canary req/s), onsets at 0, 3 and 10 min, horizon
   onset + 15 min; the judges' step schedules frozen (`sentra_hold*`, else a healthy start
   promotes before a late onset). Rules: sentra_hold (change-point tests), sentra_hold_cumulative
   (each test from the start, the rule before), oracle (SPRT told the fault, null = baseline),
   oracle_tol (SPRT told the fault, null = the edge of tolerance, as the judge's is).
F  A/A closed loop per noise shape: false rollbacks and time to promotion, sentra vs
   sentra_cumulative (same seeds).
G  A/A of maximum duration: weight held at 5 %, schedule frozen, 1800 s, every test running
   throughout: false rollbacks of sentra_hold.
Writes onsets.md, onsets.json and onsets.png to --out.

    .venv/bin/python benchmarks/onsets.py --measurement-a 50

instead reruns detection.py's measurement A for the error step (weight 5 %, onset uniform in
[30, 90] s, its seeds and onsets) for both judges and both oracles: onsets_a.md.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from rich.console import Console  # noqa: E402

from benchmarks.harness import Job, RunResult  # noqa: E402
from benchmarks.matrix import AA_SHAPES, MatrixConfig, run_matrix  # noqa: E402
from benchmarks.matrix import SEED_BASE as MATRIX_SEEDS  # noqa: E402
from benchmarks.report import jsonable  # noqa: E402
from benchmarks.rules import oracle_config  # noqa: E402
from benchmarks.summary import cp_upper  # noqa: E402
from sentra_ml.simulate import scenario_library  # noqa: E402

FAULTS = ("error_step", "latency_shift", "cpu_shift", "error_ramp")
ONSETS = (0.0, 180.0, 600.0)
DETECTION_RULES = ("sentra_hold", "sentra_hold_cumulative", "oracle", "oracle_tol")
AA_RULES = ("sentra", "sentra_cumulative")
SEED_BASE = {"E": 50_000, "F": 60_000, "G": 70_000}
AFTER_ONSET = 900.0
DETECTION_SEED = MATRIX_SEEDS["A"]
AA_HORIZON = 1800.0


def build_jobs(
    runs: int,
    aa_runs: int,
    aa_hold_runs: int,
    aa_hold_from: int = 0,
    shapes: tuple[str, ...] = AA_SHAPES,
    aa_rules: tuple[str, ...] = AA_RULES,
) -> list[Job]:
    jobs: list[Job] = []
    lib = scenario_library()
    for fault in FAULTS:
        for onset in ONSETS:
            for i in range(runs):
                for rule in DETECTION_RULES:
                    if rule.startswith("oracle") and oracle_config(lib[fault]) is None:
                        continue
                    seed = SEED_BASE["E"] + i
                    jobs.append(Job("E", rule, fault, seed, onset + AFTER_ONSET, onset, 5.0))
    for shape in shapes:
        for i in range(aa_runs):
            for rule in aa_rules:
                jobs.append(Job("F", rule, shape, SEED_BASE["F"] + i, AA_HORIZON))
        for i in range(aa_hold_from, aa_hold_from + aa_hold_runs):
            jobs.append(Job("G", "sentra_hold", shape, SEED_BASE["G"] + i, AA_HORIZON, None, 5.0))
    return jobs


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "never"
    return "n/a" if math.isnan(x) else f"{x:.0f}"


def summarise(results: list[RunResult]) -> dict[str, list[dict[str, object]]]:
    detection = []
    for fault in FAULTS:
        for onset in ONSETS:
            for rule in DETECTION_RULES:
                rows = [
                    r
                    for r in results
                    if r.measurement == "E"
                    and r.scenario == fault
                    and r.rule == rule
                    and r.onset == onset
                ]
                if not rows:
                    continue
                delays = [r.delay for r in rows]
                early = sum(r.rolled_back and r.decided_at < onset for r in rows)
                detection.append(
                    {
                        "fault": fault,
                        "onset": onset,
                        "rule": rule,
                        "runs": len(rows),
                        "detected": sum(math.isfinite(d) for d in delays) / len(rows),
                        "median_delay": _median(delays),
                        "rollbacks_before_onset": early,
                    }
                )
    aa = []
    for measurement, rules in (("F", AA_RULES), ("G", ("sentra_hold",))):
        for shape in AA_SHAPES:
            for rule in rules:
                rows = [
                    r
                    for r in results
                    if r.measurement == measurement and r.scenario == shape and r.rule == rule
                ]
                if not rows:
                    continue
                false = sum(r.rolled_back for r in rows)
                promoted = [r.decided_at for r in rows if r.promoted]
                aa.append(
                    {
                        "measurement": measurement,
                        "shape": shape,
                        "rule": rule,
                        "runs": len(rows),
                        "false_rollbacks": false,
                        "upper95": cp_upper(false, len(rows)),
                        "paused": sum(r.paused for r in rows),
                        "median_promotion": _median(promoted),
                    }
                )
    return {"detection": detection, "aa": aa}


def markdown(summary: dict[str, list[dict[str, object]]], header: str) -> str:
    lines = ["# Faults that start mid-rollout", "", header, ""]
    lines += [
        "## E. Detection at a held 5 % weight, onsets at 0, 3 and 10 min",
        "",
        "Median delay (s) from the onset to the rollback; `never` = not within 15 min of it.",
        "",
        "| fault | onset | rule | runs | detected | median delay | x oracle | x oracle_tol "
        "| rollbacks before onset |",
        "|---|--:|---|--:|--:|--:|--:|--:|--:|",
    ]
    rows = summary["detection"]
    for row in rows:
        same = {
            str(r["rule"]): float(str(r["median_delay"]))
            for r in rows
            if r["fault"] == row["fault"] and r["onset"] == row["onset"]
        }
        delay = float(str(row["median_delay"]))
        ratios = []
        for oracle in ("oracle", "oracle_tol"):
            base = same.get(oracle, math.nan)
            ratios.append(f"{delay / base:.2f}" if base > 0 and math.isfinite(delay) else "n/a")
        lines.append(
            f"| {row['fault']} | {float(str(row['onset'])):.0f} | {row['rule']} | {row['runs']} "
            f"| {float(str(row['detected'])) * 100:.0f} % | {_fmt(delay)} | {ratios[0]} "
            f"| {ratios[1]} | {row['rollbacks_before_onset']} |"
        )
    lines += [
        "",
        "## F/G. A/A: false rollbacks (alpha = 1 %) and time to promotion",
        "",
        "F: closed loop (the rule's own weights). G: weight held at 5 % for 1800 s, schedule "
        "frozen: every test runs for the whole horizon (the change-point tests' worst case).",
        "",
        "| | shape | rule | runs | false rollbacks | upper 95 % | paused | median promotion (s) |",
        "|---|---|---|--:|--:|--:|--:|--:|",
    ]
    for row in summary["aa"]:
        lines.append(
            f"| {row['measurement']} | {row['shape']} | {row['rule']} | {row['runs']} "
            f"| {row['false_rollbacks']} | {float(str(row['upper95'])) * 100:.1f} % "
            f"| {row['paused']} | {_fmt(float(str(row['median_promotion'])))} |"
        )
    return "\n".join(lines) + "\n"


def plot(summary: dict[str, list[dict[str, object]]], path: Path) -> None:
    fig, axes = plt.subplots(1, len(FAULTS), figsize=(4 * len(FAULTS), 3.6), sharey=False)
    for ax, fault in zip(axes, FAULTS, strict=True):
        for k, rule in enumerate(DETECTION_RULES):
            rows = [r for r in summary["detection"] if r["fault"] == fault and r["rule"] == rule]
            if not rows:
                continue
            xs = [i + (k - 1.5) * 0.2 for i in range(len(rows))]
            ys = [float(str(r["median_delay"])) for r in rows]
            ys = [y if math.isfinite(y) else AFTER_ONSET for y in ys]
            ax.bar(xs, ys, width=0.2, label=rule)
        ax.set_xticks(range(len(ONSETS)), [f"onset {o / 60:g} min" for o in ONSETS])
        ax.set_title(fault)
        ax.set_ylabel("median delay (s)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


A_RULES = ("sentra", "sentra_cumulative", "sentra_hold", "sentra_hold_cumulative", "oracle")


def measurement_a(runs: int, workers: int, out: Path, console: Console) -> None:
    """detection.py's measurement A for the error step, both judges and both oracles."""
    cfg = MatrixConfig(runs=runs)
    jobs = [
        Job("A", rule, "error_step", DETECTION_SEED + i, cfg.onset("error_step", i) + 1800.0,
            cfg.onset("error_step", i), cfg.detection_weight)
        for i in range(runs)
        for rule in (*A_RULES, "oracle_tol")
    ]  # fmt: skip
    results = run_matrix(jobs, workers, console)
    lines = [
        "# Measurement A of detection.py, error step, both judges",
        "",
        f"`python benchmarks/onsets.py --measurement-a {runs}`: weight held at 5 %, onset "
        "uniform in [30, 90] s (detection.py's seeds and onsets).",
        "",
        "| rule | runs | detected | median delay (s) | promoted |",
        "|---|--:|--:|--:|--:|",
    ]
    for rule in (*A_RULES, "oracle_tol"):
        rows = [r for r in results if r.rule == rule]
        delays = [r.delay for r in rows]
        found = sum(math.isfinite(d) for d in delays) / max(len(rows), 1)
        promoted = sum(r.promoted for r in rows)
        lines.append(
            f"| {rule} | {len(rows)} | {found * 100:.0f} % | {_fmt(_median(delays))} | {promoted} |"
        )
    text = "\n".join(lines) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / "onsets_a.md").write_text(text)
    console.print(text, highlight=False, markup=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--aa-runs", type=int, default=60)
    parser.add_argument("--aa-hold-runs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--measurement-a", type=int, default=0, metavar="RUNS")
    parser.add_argument("--aa-shapes", nargs="+", default=list(AA_SHAPES), choices=AA_SHAPES)
    parser.add_argument("--aa-rules", nargs="+", default=list(AA_RULES), choices=AA_RULES)
    parser.add_argument(
        "--aa-hold-from", type=int, default=0, help="first seed index of G (to add runs later)"
    )
    args = parser.parse_args(argv)
    if not sys.stdout.isatty() and isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # a log file gets its progress lines at once
    console = Console() if sys.stdout.isatty() else Console(width=200)
    if args.measurement_a:
        measurement_a(args.measurement_a, args.workers, args.out, console)
        return
    shapes = tuple(args.aa_shapes)
    jobs = build_jobs(
        args.runs, args.aa_runs, args.aa_hold_runs, args.aa_hold_from, shapes, tuple(args.aa_rules)
    )
    console.print(f"{len(jobs)} runs on {args.workers} worker(s)", highlight=False)
    started = time.perf_counter()
    results = run_matrix(jobs, args.workers, console)
    wall = time.perf_counter() - started
    summary = summarise(results)
    command = " ".join(["python", "benchmarks/onsets.py", *(argv or sys.argv[1:])])
    header = f"`{command}`: {len(results)} runs, {wall / 60:.1f} min wall."
    args.out.mkdir(parents=True, exist_ok=True)
    text = markdown(summary, header)
    (args.out / "onsets.md").write_text(text)
    doc = {"command": command, "wall_seconds": round(wall, 1), "summary": summary}
    (args.out / "onsets.json").write_text(json.dumps(jsonable(doc), indent=1))
    plot(summary, args.out / "onsets.png")
    console.print(text, highlight=False, markup=False)


if __name__ == "__main__":
    main()
