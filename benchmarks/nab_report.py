"""The cross-validation benchmark's table (markdown) and figure (held-out score per fold)."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from benchmarks.nab import footprint_table

PROFILE_NAMES = {
    "standard": "standard",
    "reward_low_FP_rate": "low FP",
    "reward_low_FN_rate": "low FN",
}


def _scored(folds: list[dict[str, Any]]) -> list[float]:
    return [f["score"] for f in folds if f["windows"]]


def markdown(result: dict[str, Any]) -> str:
    detectors: dict[str, dict[str, Any]] = result["detectors"]
    folds0 = next(iter(detectors.values()))["folds"]["standard"]
    cats = [f["held_out"] for f in folds0 if f["windows"]]
    empty = [f["held_out"] for f in folds0 if not f["windows"]]
    lines = [
        f"# NAB cross-validation across categories ({result['files']} files, "
        f"{result['rows']:,} rows)",
        "",
        "Run: `.venv/bin/python benchmarks/nab_cv.py`. For each held-out category, the threshold "
        "(and for `grid, nested` the learner configuration) is chosen on the other three "
        "categories; the held-out files are scored at exactly that choice. `whole set` is NAB's "
        "own rule (one best threshold over all files): a development-set number. "
        f"{', '.join(empty)} holds no window: its column counts false-positive rows at the "
        "threshold chosen without it (lower is better).",
        "",
        f"Shipped default = the grid point with the best mean held-out standard score: "
        f"`{result['chosen']}` (grid: "
        + "; ".join(f"{k} {list(v)}" for k, v in result["grid"].items())
        + ").",
        "",
    ]
    for pname, label in PROFILE_NAMES.items():
        lines += [
            f"## {label}",
            "",
            f"| detector | whole set | {' | '.join(cats)} | mean of folds | spread (max-min) "
            f"| {' | '.join(e + ' FPs' for e in empty)} |",
            "|---|" + "---:|" * (len(cats) + 3 + len(empty)),
        ]
        for key, entry in detectors.items():
            folds = entry["folds"][pname]
            scores = _scored(folds)
            fps = [str(f["false_positives"]) for f in folds if not f["windows"]]
            lines.append(
                f"| {key} | {entry['whole_set'][pname]:.1f} | "
                + " | ".join(f"{s:.1f}" for s in scores)
                + f" | {statistics.mean(scores):.1f} | {max(scores) - min(scores):.1f} | "
                + " | ".join(fps)
                + " |"
            )
        lines.append("")
    nested = detectors["grid, nested"]["folds"]["standard"]
    lines += [
        "Configurations the nested folds chose (standard): "
        + "; ".join(f"{f['held_out']}: `{f['candidate']}`" for f in nested),
        "",
        "Flag false-alarm rate on stationary noise (one feature, 48,000 scored intervals after "
        "2,000 of warm-up; target 1e-3; `p_sustained` is what the judge reads):",
        "",
        "| learner | law | flag | p_sustained <= alarm rate |",
        "|---|---|---:|---:|",
    ]
    for who, laws in result["false_alarms"].items():
        for law, rates in laws.items():
            lines.append(f"| {who} | {law} | {rates['flag']:.2e} | {rates['p_sustained']:.2e} |")
    lines += [
        "",
        f"`sentra score` path (`score_series`) on {result['footprint']['nab']['file']}: "
        f"{result['sentra_score_rows_per_s']:,.0f} rows/s.",
        "",
        *footprint_table(result["footprint"]),
        "",
    ]
    return "\n".join(lines)


def plot(result: dict[str, Any], target: Path) -> None:
    """Left: held-out standard score per category and detector, with NAB's whole-set score.
    Right: every grid configuration's mean held-out score (how much the choice matters)."""
    detectors: dict[str, dict[str, Any]] = result["detectors"]
    names = list(detectors)
    folds0 = detectors[names[0]]["folds"]["standard"]
    cats = [f["held_out"] for f in folds0 if f["windows"]] + ["whole set (NAB's rule)"]
    fig, (ax, grid) = plt.subplots(
        1, 2, figsize=(14, 4.2), gridspec_kw={"width_ratios": [2.4, 1.0]}
    )
    width = 0.8 / len(names)
    for j, key in enumerate(names):
        entry = detectors[key]
        ys = [*_scored(entry["folds"]["standard"]), entry["whole_set"]["standard"]]
        bars = ax.bar([i + j * width for i in range(len(cats))], ys, width, label=key)
        ax.bar_label(bars, fmt="%.0f", fontsize=6)
    ax.set_xticks([i + width * (len(names) - 1) / 2 for i in range(len(cats))], cats, fontsize=8)
    ax.axhline(0, color="k", linewidth=0.5)
    ax.set_ylabel("NAB standard (0 null, 100 perfect)")
    ax.set_title("Held-out category scored at the threshold chosen on the other three", fontsize=9)
    ax.legend(fontsize=7, ncol=3)
    means: dict[str, float] = result["grid_cv_mean"]
    ordered = sorted(means, key=lambda k: means[k])
    colours = ["#1f77b4" if k == result["chosen"] else "#bbbbbb" for k in ordered]
    grid.barh(range(len(ordered)), [means[k] for k in ordered], color=colours)
    earlier = result.get("earlier_cv_mean")
    if earlier is not None:
        grid.axvline(earlier, color="#ff7f0e", linewidth=1, label=f"earlier defaults {earlier:.1f}")
        grid.legend(fontsize=7, loc="lower right")
    grid.set_yticks([])
    grid.set_xlabel("mean held-out standard score (3 folds)")
    grid.set_title(f"{len(ordered)} grid configurations; chosen in blue", fontsize=9)
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    plt.close(fig)
