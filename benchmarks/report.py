"""Tables (console and markdown), JSON and a PNG plot from the benchmark's run results."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from harness import RULES, RunResult
from rich.console import Console
from rich.table import Table

ALPHA = 0.01


def _fmt(x: float, digits: int = 0) -> str:
    return "—" if not math.isfinite(x) else f"{x:.{digits}f}"


def _wilson_upper(k: int, n: int, z: float = 1.96) -> float:
    if n == 0:
        return math.nan
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre + spread) / (1 + z * z / n)


def _median(xs: list[float]) -> float:
    return float(np.median(xs)) if xs else math.inf


def _group(rows: list[RunResult]) -> dict[tuple[str, str], list[RunResult]]:
    groups: dict[tuple[str, str], list[RunResult]] = defaultdict(list)
    for r in rows:
        groups[(r.scenario, r.rule)].append(r)
    return groups


def summarise(results: dict[str, list[RunResult]]) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {"A": [], "B": [], "C": [], "D": []}
    for (scenario, rule), rows in sorted(_group(results["A"]).items()):
        delays = np.array([r.delay for r in rows if r.decided_at >= r.onset])
        early = sum(r.action == "rollback" and r.decided_at < r.onset for r in rows)
        hit = delays[np.isfinite(delays)]
        out["A"].append({
            "fault": scenario, "rule": rule, "runs": len(rows),
            "detected": len(hit) / len(rows),
            "median_delay_s": float(np.median(delays)) if len(delays) else math.inf,
            "p90_delay_s": float(np.percentile(delays, 90)) if len(delays) else math.inf,
            "rollbacks_before_onset": int(early),
        })  # fmt: skip
    for (scenario, rule), rows in sorted(_group(results["B"]).items()):
        rolled = [r for r in rows if r.action == "rollback"]
        out["B"].append({
            "fault": scenario, "rule": rule, "runs": len(rows),
            "rolled_back": len(rolled) / len(rows),
            "promoted": sum(r.action == "promote" for r in rows) / len(rows),
            "median_time_to_rollback_s": _median([r.decided_at for r in rolled]),
            "median_excess_failed": float(np.median([r.excess_failed for r in rows])),
        })  # fmt: skip
    for (scenario, rule), rows in sorted(_group(results["C"]).items()):
        k = sum(r.action == "rollback" for r in rows)
        promoted = [r.decided_at for r in rows if r.action == "promote"]
        out["C"].append({
            "shape": scenario, "rule": rule, "runs": len(rows),
            "false_rollback_rate": k / len(rows),
            "false_rollback_upper95": _wilson_upper(k, len(rows)),
            "promoted": len(promoted) / len(rows),
            "median_time_to_promotion_s": _median(promoted),
        })  # fmt: skip
    for (_, rule), rows in sorted(_group(results["D"]).items()):
        out["D"].append({
            "rule": rule, "runs": len(rows),
            "no_rollback_rate": sum(r.action != "rollback" for r in rows) / len(rows),
            "paused_rate": sum(r.paused for r in rows) / len(rows),
        })  # fmt: skip
    return out


def targets(summary: dict[str, list[dict[str, object]]]) -> list[tuple[str, bool, str]]:
    """The project's stated targets, each PASS or FAIL with the number behind it."""
    checks: list[tuple[str, bool, str]] = []
    for row in summary["C"]:
        if row["rule"] == "sentra":
            rate = float(row["false_rollback_rate"])  # type: ignore[arg-type]
            checks.append(
                (
                    f"A/A false rollbacks <= 1 % ({row['shape']}, {row['runs']} runs)",
                    rate <= ALPHA and int(row["runs"]) >= 500,
                    f"{rate:.2%}",
                )
            )  # type: ignore[call-overload]
    delay = {(r["fault"], r["rule"]): float(r["median_delay_s"]) for r in summary["A"]}  # type: ignore[arg-type]
    s = delay.get(("error_step", "sentra"), math.inf)
    checks.append(
        ("error 1 % -> 3 % at 20 req/s detected in <= 15 s median", s <= 15, f"{s:.0f} s")
    )
    for rule, factor in (("flagger", 10), ("kayenta", 50)):
        ratios = [
            delay[(f, rule)] / delay[(f, "sentra")]
            for f, r in delay
            if r == rule
            if math.isfinite(delay[(f, "sentra")]) and delay[(f, "sentra")] > 0
        ]
        worst = min(ratios) if ratios else math.nan
        checks.append(
            (
                f">= {factor}x faster than {rule} (median delay, every fault)",
                worst >= factor,
                f"worst {worst:.1f}x",
            )
        )
    o = delay.get(("error_step", "oracle"), math.nan)
    checks.append(("within 2x of the oracle (error step)", s <= 2 * o, f"{s / o:.2f}x"))
    return checks


def write_report(
    results: dict[str, list[RunResult]], config: dict[str, object], out: Path, console: Console
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    summary = summarise(results)
    checks = targets(summary)
    titles = {
        "A": "A. Detection delay at a fixed 5 % canary weight (s after onset)",
        "B": "B. Closed loop, bad release from t=0 (the rule's own weights)",
        "C": "C. Closed loop A/A: false rollbacks and time to promotion",
        "D": "D. Environment incident (both cohorts): runs not rolled back",
    }
    md = [
        "# Detection benchmark",
        "",
        "`.venv/bin/python benchmarks/detection.py "
        f"--aa-runs {config['aa_runs']} --runs {config['runs']}` "
        f"({config['wall_seconds']} s on 2 cores)",
        "",
    ]
    for key, rows in summary.items():
        if not rows:
            continue
        cols = list(rows[0])
        table = Table(title=titles[key])
        for c in cols:
            table.add_column(c)
        md += [f"## {titles[key]}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for row in rows:
            cells = [_cell(row[c]) for c in cols]
            table.add_row(*cells)
            md.append("| " + " | ".join(cells) + " |")
        md.append("")
        console.print(table)
    md += ["## Targets", ""] + [
        f"- {'PASS' if ok else 'FAIL'}: {name} — {v}" for name, ok, v in checks
    ]
    for name, ok, v in checks:
        console.print(f"{'[green]PASS' if ok else '[red]FAIL'}[/] {name}: {v}")
    (out / "detection.md").write_text("\n".join(md) + "\n")
    (out / "detection.json").write_text(
        json.dumps(
            {"config": config, "summary": summary, "targets": [list(c) for c in checks]},
            indent=1,
            default=lambda x: None if isinstance(x, float) else str(x),
        )
    )
    _plot(summary, out / "detection.png")


def _cell(x: object) -> str:
    if isinstance(x, float):
        return _fmt(x, 3) if abs(x) < 1 and x != 0 else _fmt(x, 1)
    return str(x)


def _plot(summary: dict[str, list[dict[str, object]]], path: Path) -> None:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8))
    faults = sorted({str(r["fault"]) for r in summary["A"]})
    width = 0.8 / len(RULES)
    for i, rule in enumerate(RULES):
        med = [
            next(
                (
                    float(r["median_delay_s"])
                    for r in summary["A"]  # type: ignore[arg-type]
                    if r["fault"] == f and r["rule"] == rule
                ),
                math.nan,
            )
            for f in faults
        ]
        p90 = [
            next(
                (
                    float(r["p90_delay_s"])
                    for r in summary["A"]  # type: ignore[arg-type]
                    if r["fault"] == f and r["rule"] == rule
                ),
                math.nan,
            )
            for f in faults
        ]
        x = np.arange(len(faults)) + i * width
        ax1.bar(x, [m if math.isfinite(m) else np.nan for m in med], width, label=rule)
        ax1.scatter(x, [p if math.isfinite(p) else np.nan for p in p90], marker="_", color="k")
    ax1.set_yscale("log")
    ax1.set_xticks(np.arange(len(faults)) + 0.4, faults, rotation=20)
    ax1.set_ylabel("detection delay, s (bar: median, tick: p90)")
    ax1.set_title("Detection at 20 canary req/s (missing bar: not detected)")
    ax1.legend(fontsize=8)
    shapes = sorted({str(r["shape"]) for r in summary["C"]})
    for i, rule in enumerate(RULES[:4]):
        rates = [
            next(
                (
                    float(r["false_rollback_rate"])
                    for r in summary["C"]  # type: ignore[arg-type]
                    if r["shape"] == s and r["rule"] == rule
                ),
                math.nan,
            )
            for s in shapes
        ]
        ax2.bar(np.arange(len(shapes)) + i * 0.2, rates, 0.2, label=rule)
    ax2.axhline(ALPHA, color="r", linestyle="--", label="alpha = 1 %")
    ax2.set_xticks(np.arange(len(shapes)) + 0.3, shapes, rotation=20)
    ax2.set_ylabel("false rollback rate (A/A)")
    ax2.set_title("A/A false rollbacks per noise shape")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
