"""The benchmark's figure: detection delays per fault and rule, and A/A false rollback rates."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from benchmarks.harness import RunResult
from benchmarks.rules import RULES
from benchmarks.summary import ALPHA, Summary

COLOURS = dict(
    zip(RULES, ("#d62728", "#ff9896", "#1f77b4", "#2ca02c", "#9467bd", "#7f7f7f"), strict=True)
)
MISSED_Y = 4000.0  # where "not detected" is drawn, above any possible delay (< 1890 s)


def plot(summary: Summary, results: Sequence[RunResult], path: Path) -> None:
    """Two panels side by side, saved as a PNG."""
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(16, 6.2), gridspec_kw={"width_ratios": [1.35, 1.0]}
    )
    _delays(left, summary, results)
    _false_rollbacks(right, summary)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _delays(ax: Axes, summary: Summary, results: Sequence[RunResult]) -> None:
    faults = list(dict.fromkeys(str(r["fault"]) for r in summary["A"]))
    width = 0.8 / len(RULES)
    rng = np.random.default_rng(0)  # jitter only
    for row in summary["A"]:
        fault, rule = str(row["fault"]), str(row["rule"])
        x = faults.index(fault) - 0.4 + width * (RULES.index(rule) + 0.5)
        colour = COLOURS[rule]
        delays = [
            r.delay
            for r in results
            if r.measurement == "A" and r.scenario == fault and r.rule == rule
            if math.isfinite(r.delay)
        ]
        if delays:
            jitter = x + rng.uniform(-width / 4, width / 4, len(delays))
            ax.scatter(jitter, delays, s=6, color=colour, alpha=0.35, linewidths=0)
        med, p90 = float(row["median_delay_s"]), float(row["p90_delay_s"])
        if math.isfinite(med):
            top = p90 if math.isfinite(p90) else MISSED_Y
            ax.vlines(x, med, top, color=colour, linewidth=1.5)
            ax.scatter([x], [med], s=40, color=colour, edgecolors="k", zorder=3)
        else:
            ax.scatter([x], [MISSED_Y], s=50, marker="x", color=colour, zorder=3)
        if math.isfinite(p90):
            ax.scatter([x], [p90], s=60, marker="_", color="k", zorder=3)
        ax.text(x, MISSED_Y * 1.6, f"{100 * float(row['detected']):.0f}", ha="center", fontsize=7)
    for rule in RULES:
        ax.scatter([], [], s=40, color=COLOURS[rule], edgecolors="k", label=rule)
    ax.scatter([], [], s=60, marker="_", color="k", label="p90 (line: median to p90)")
    ax.scatter([], [], s=50, marker="x", color="k", label="median: not detected")
    ax.axhline(MISSED_Y * 0.75, color="0.6", linewidth=0.8, linestyle=":")
    ax.text(-0.45, MISSED_Y * 0.8, "not detected", fontsize=7, color="0.4", va="bottom")
    ax.set_yscale("log")
    ax.set_ylim(1.0, MISSED_Y * 2.5)
    ax.set_xticks(range(len(faults)), faults)
    ax.set_xlim(-0.5, len(faults) - 0.5)
    ax.set_ylabel("detection delay after onset, s (log; dots: runs, circle: median)")
    ax.set_title(
        "A. Detection at a fixed 5 % weight (20 canary req/s); numbers on top: % detected",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="lower left", ncol=2)
    ax.grid(axis="y", which="major", alpha=0.3)


def _false_rollbacks(ax: Axes, summary: Summary) -> None:
    shapes = list(dict.fromkeys(str(r["shape"]) for r in summary["C"]))
    rules = [r for r in RULES if any(row["rule"] == r for row in summary["C"])]
    width = 0.8 / max(1, len(rules))
    for i, rule in enumerate(rules):
        rows = {str(r["shape"]): r for r in summary["C"] if r["rule"] == rule}
        xs = [k - 0.4 + width * (i + 0.5) for k, s in enumerate(shapes) if s in rows]
        rate = [float(rows[s]["false_rollback_rate"]) for s in shapes if s in rows]
        upper = [float(rows[s]["false_rollback_upper95"]) for s in shapes if s in rows]
        err = [np.zeros(len(rate)), np.array(upper) - np.array(rate)]
        ax.bar(xs, rate, width, color=COLOURS[rule], label=rule, yerr=err, capsize=3)
        for x, s in zip(xs, (s for s in shapes if s in rows), strict=True):
            r = rows[s]
            label = f"{r['false_rollbacks']}/{r['runs']}"
            ax.text(x, 1.15, label, ha="center", va="bottom", fontsize=7, rotation=90)
    ax.axhline(ALPHA, color="r", linestyle="--", linewidth=1, label="alpha = 1 %")
    ax.set_yscale("symlog", linthresh=0.01, linscale=1.0)
    ax.set_ylim(0.0, 3.0)
    ax.set_yticks([0, 0.0025, 0.005, 0.0075, 0.01, 0.1, 1.0])
    ax.set_yticklabels(["0", "0.25 %", "0.5 %", "0.75 %", "1 %", "10 %", "100 %"])
    ax.set_xticks(range(len(shapes)), shapes, rotation=15)
    ax.set_xlim(-0.5, len(shapes) - 0.5)
    ax.set_ylabel("false rollback rate (whisker: one-sided 95 % upper bound)")
    ax.set_title("C. A/A false rollbacks per noise shape (labels: rollbacks/runs)", fontsize=10)
    ax.legend(fontsize=8, loc="upper center", ncol=5, bbox_to_anchor=(0.5, -0.12))
    ax.grid(axis="y", alpha=0.3)


def grouped_bars(
    rows: Sequence[dict[str, Any]],
    scenarios: Sequence[str],
    rules: Sequence[str],
    panels: Sequence[tuple[str, str]],
    path: Path,
) -> None:
    """One panel per (row key, title): a bar per rule for each scenario that has the key."""
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
    for ax, (key, title) in zip(axes[0], panels, strict=True):
        names = [s for s in scenarios if any(key in r and r[key] is not None
                                             for r in rows if r["scenario"] == s)]  # fmt: skip
        for k, rule in enumerate(rules):
            values = [
                next(r.get(key) or 0.0 for r in rows if r["scenario"] == s and r["rule"] == rule)
                for s in names
            ]
            ax.bar([i + 0.4 * k for i in range(len(names))], values, width=0.4, label=rule)
        ax.set_xticks([i + 0.2 for i in range(len(names))], names, rotation=30, ha="right")
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
