"""SLO-drift forecasting against Google's multi-window multi-burn-rate alerts (SRE Workbook).

    .venv/bin/python benchmarks/forecast.py [--runs 50] [--out benchmarks/results]

A service at 400 req/s, 0.1 % errors, SLO 99.5 % (objective: error ratio <= 0.5 %), one point a
minute, 6 h of healthy history before the fault. Faults: a step to 10 % (burn 20x), a step to 2 %
(burn 4x), a slow drift of +0.02 %/min (crosses the objective after 20 min), and 24 h without a
fault (false alarms per day, with diurnal traffic). Rules:
- mwmbr: page when 1 h and 5 min both burn > 14.4x, or 6 h and 30 min both > 6x;
- forecast: Holt (ETS) on the per-minute error ratio; alarm when the smoothed level is beyond
  the objective or P(beyond it within 30 min) >= 0.95.
Detection time is measured from the fault's onset; for the drift also against the moment the
true error ratio crosses the objective (negative = warned before the breach).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import track
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sentra_ml.analysis.forecast import Holt, MultiWindowBurnRate, outlook  # noqa: E402

RPS, BASE, SLO = 400.0, 0.001, 0.995
OBJECTIVE = 1 - SLO
STEP = 60.0
HISTORY = 6 * 60  # minutes of healthy history
HORIZON = 30  # forecast steps (minutes)
FAULTS: dict[str, Callable[[int], float]] = {
    "step 10 %": lambda m: 0.10,
    "step 2 %": lambda m: 0.02,
    "drift +0.02 %/min": lambda m: BASE + 0.0002 * m,
}
DRIFT_BREACH_MIN = (OBJECTIVE - BASE) / 0.0002


def series(
    rng: np.random.Generator,
    minutes: int,
    ratio_at: Callable[[int], float],
    diurnal: bool,
    rps: float = RPS,
) -> list[tuple[float, float]]:
    """(requests, failures) per minute."""
    out = []
    for m in range(minutes):
        level = 1.0 + (0.5 * math.sin(2 * math.pi * m / 1440) if diurnal else 0.0)
        total = float(rng.poisson(rps * STEP * level))
        out.append((total, float(rng.binomial(int(total), min(1.0, ratio_at(m))))))
    return out


def run(points: list[tuple[float, float]], start: int) -> dict[str, float]:
    """Minutes from `start` to the first alarm of each rule (inf: none); alarms before `start`
    are counted as false alarms (each rule is re-armed 60 min after it fires)."""
    mw = MultiWindowBurnRate(SLO)
    holt = Holt(alpha=0.3, beta=0.05, phi=1.0)
    first = {"mwmbr": math.inf, "forecast": math.inf}
    false = {"mwmbr": 0.0, "forecast": 0.0}
    quiet = {"mwmbr": -1, "forecast": -1}
    for m, (total, failed) in enumerate(points):
        mw.update(m * STEP, total, failed)
        holt.update(failed / total if total else 0.0)
        fired = {
            "mwmbr": mw.firing,
            "forecast": holt.n > 10
            and (
                (holt.level or 0.0) >= OBJECTIVE
                or outlook(holt, OBJECTIVE, HORIZON, STEP).p_breach >= 0.95
            ),
        }
        for rule, on in fired.items():
            if not on or m < quiet[rule]:
                continue
            if m < start:
                false[rule] += 1
                quiet[rule] = m + 60
            elif math.isinf(first[rule]):
                first[rule] = m - start
    return {
        **{f"{r}_delay": v for r, v in first.items()},
        **{f"{r}_false": v for r, v in false.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results")
    args = parser.parse_args()
    console = Console()
    rows: list[dict[str, object]] = []
    for name, fault in FAULTS.items():
        delays: dict[str, list[float]] = {"mwmbr": [], "forecast": []}
        for seed in track(range(args.runs), description=name, console=console):
            rng = np.random.default_rng(seed)
            pts = series(rng, HISTORY, lambda m: BASE, False) + series(rng, 240, fault, False)
            result = run(pts, HISTORY)
            for rule in delays:
                delays[rule].append(result[f"{rule}_delay"])
        for rule, d in delays.items():
            median = statistics.median(d)
            row = {"scenario": name, "rule": rule, "detected": sum(map(math.isfinite, d)) / len(d),
                   "median_min": median}  # fmt: skip
            if name.startswith("drift"):
                row["vs_breach_min"] = median - DRIFT_BREACH_MIN
            rows.append(row)
    for rps in (RPS, 4.0):
        name = f"no fault, 24 h, {rps:g} req/s"
        false: dict[str, list[float]] = {"mwmbr": [], "forecast": []}
        for seed in track(range(args.runs), description=name, console=console):
            rng = np.random.default_rng(10_000 + seed)
            result = run(series(rng, 1440, lambda m: BASE, True, rps), 10**9)
            for rule in false:
                false[rule].append(result[f"{rule}_false"])
        for rule, f in false.items():
            rows.append(
                {"scenario": name, "rule": rule, "false_alarms_per_day": statistics.mean(f)}
            )
    report(console, rows, args)


def report(console: Console, rows: list[dict[str, object]], args: argparse.Namespace) -> None:
    cols = ["scenario", "rule", "detected", "median_min", "vs_breach_min", "false_alarms_per_day"]
    heads = [
        "scenario",
        "rule",
        "detected",
        "median delay (min)",
        "vs true breach (min)",
        "false alarms / day",
    ]

    def cell(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            return "never" if math.isinf(value) else f"{value:.2f}"
        return str(value)

    table = Table(title=f"Forecast vs multi-window burn-rate alerts ({args.runs} runs per row)")
    for h in heads:
        table.add_column(h)
    lines = ["| " + " | ".join(heads) + " |", "|---|---|--:|--:|--:|--:|"]
    for r in rows:
        cells = [cell(r.get(c)) for c in cols]
        table.add_row(*cells)
        lines.append("| " + " | ".join(cells) + " |")
    console.print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/forecast.py " + " ".join(sys.argv[1:])
    (args.out / "forecast.md").write_text(
        f"# SLO-drift forecast vs burn-rate alerts\n\n`{command.strip()}`\n\n"
        + "\n".join(lines)
        + "\n"
    )
    (args.out / "forecast.json").write_text(json.dumps(rows, indent=1, default=str))
    plot(rows, args.out / "forecast.png")


def plot(rows: list[dict[str, object]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    faults = [r for r in rows if "median_min" in r]
    names = list(dict.fromkeys(str(r["scenario"]) for r in faults))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for k, rule in enumerate(("mwmbr", "forecast")):
        values = [
            next(float(r["median_min"]) for r in faults if r["scenario"] == n and r["rule"] == rule)
            for n in names
        ]  # type: ignore[arg-type]
        shown = [v if math.isfinite(v) else 240.0 for v in values]
        ax.bar(np.arange(len(names)) + 0.4 * k, shown, width=0.4, label=rule)
    ax.set_xticks(np.arange(len(names)) + 0.2, names)
    ax.set_ylabel("median minutes to alarm (240 = never)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
