"""PNG plots of offline evaluations: series, scores, labelled windows, detections."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sentra_ml.analysis.nab import probation_length
from sentra_training.evaluation import Evaluation, ScoredFile, find_scores
from sentra_training.model_eval import LabelledSet
from sentra_training.series import FloatArray, read_series


def plot_scored(
    scored: ScoredFile,
    target: Path,
    threshold: float,
    values: FloatArray | None = None,
    label: str = "value",
) -> None:
    """A PNG of the series (if given), the score, the windows, the threshold and detections."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = (scored.times - scored.times[0]) / 86400.0
    start = scored.times[0]
    panels = 2 if values is not None else 1
    fig, axes = plt.subplots(panels, 1, figsize=(11, 2.4 * panels + 0.6), sharex=True)
    axes_list = list(np.atleast_1d(axes))
    for ax in axes_list:
        for lo, hi in scored.windows:
            ax.axvspan((lo - start) / 86400, (hi - start) / 86400, color="tab:red", alpha=0.15)
    if values is not None:
        top = axes_list[0]
        top.plot(days, values, lw=0.6, color="tab:blue")
        top.scatter(
            days[scored.flags], values[scored.flags], s=14, color="black", zorder=3, label="flag"
        )
        top.set_ylabel(label, fontsize=8)
        top.legend(loc="upper right", fontsize=7)
    ax = axes_list[-1]
    # scores crowd near 1: plot -log10(1 - score), the p-value in decades, to tell them apart
    decades = -np.log10(np.clip(1.0 - scored.scores, 1e-12, 1.0))
    ax.plot(days, decades, lw=0.6, color="tab:purple")
    ax.axvspan(0, days[probation_length(len(days))], color="grey", alpha=0.15, label="probation")
    if math.isfinite(threshold):
        line = -math.log10(max(1.0 - threshold, 1e-12))
        ax.axhline(line, color="tab:orange", lw=0.8, ls="--", label=f"NAB best {threshold:.6g}")
        hits = scored.scores >= threshold
        ax.scatter(days[hits], decades[hits], s=10, color="tab:orange", zorder=3)
    ax.legend(loc="upper right", fontsize=7)
    ax.set_ylabel("-log10(1 - score)")
    ax.set_xlabel("days since start (red: labelled windows)")
    axes_list[0].set_title(scored.name, fontsize=9)
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=90)
    plt.close(fig)


def plot_evaluation(
    evaluation: Evaluation, directory: Path, profile: str, data: Path | None = None
) -> list[Path]:
    """One PNG per evaluated file under `directory`; series values are read from `data`."""
    written: list[Path] = []
    threshold = evaluation.nab[profile].threshold if profile in evaluation.nab else math.nan
    for scored in evaluation.files:
        values: FloatArray | None = None
        source = find_scores(data, scored.name) if data is not None else None
        if source is not None:
            series = read_series(source)
            if len(series) == len(scored.times):
                values = next(iter(series.columns.values()))
        target = directory / (scored.name.replace("/", "__").removesuffix(".csv") + ".png")
        plot_scored(scored, target, threshold, values)
        written.append(target)
    return written


def plot_training(
    times: FloatArray, p_values: FloatArray, alarm_rate: float, split: int, target: Path
) -> Path:
    """The history's p-values (in decades), the calibrated flag line and the held-out tail."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = (times - times[0]) / 86400.0
    decades = -np.log10(np.clip(p_values, 1e-12, 1.0))
    fig, ax = plt.subplots(figsize=(11, 3.2))
    ax.plot(days, decades, lw=0.6, color="tab:purple")
    ax.axhline(-math.log10(alarm_rate), color="tab:orange", ls="--", lw=0.8, label="flag line")
    if split < len(days):
        ax.axvspan(days[split], days[-1], color="grey", alpha=0.15, label="held out")
    ax.set_ylabel("-log10(p)")
    ax.set_xlabel("days of history")
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=90)
    plt.close(fig)
    return target


def plot_comparison(
    name: str,
    metrics: dict[str, tuple[float, float]],
    labels: tuple[str, str],
    target: Path,
    scores: dict[str, tuple[float, float]] | None = None,
) -> Path:
    """Side-by-side bars of two versions' rates (log scale: rates span decades) and, when given,
    of their evaluation scores (NAB scores, linear)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(metrics, True)] + ([(scores, False)] if scores else [])
    width = min(16.0, max(6.0, 1.3 * max(len(m) for m, _ in panels)))
    fig, axes = plt.subplots(len(panels), 1, figsize=(width, 3.4 * len(panels)), squeeze=False)
    for ax, (values, log) in zip(axes[:, 0], panels, strict=True):
        keys = list(values)
        x = np.arange(len(keys))
        for offset, index in ((-0.2, 0), (0.2, 1)):
            heights = [values[k][index] for k in keys]
            if log:
                heights = [max(h, 1e-7) for h in heights]
            ax.bar(x + offset, np.nan_to_num(heights), width=0.4, label=labels[index])
        ax.set_xticks(x, keys, rotation=20, ha="right", fontsize=7)
        if log:
            ax.set_yscale("log")
        else:
            ax.axhline(0, color="black", lw=0.6)
            ax.set_ylabel("NAB score (100 = perfect)", fontsize=7)
        ax.legend(fontsize=7)
    axes[0, 0].set_title(name, fontsize=9)
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=90)
    plt.close(fig)
    return target


def plot_model_evaluation(
    sets: dict[str, Evaluation], labelled: dict[str, LabelledSet], directory: Path
) -> list[Path]:
    """`summary.png` (NAB scores of each set and profile, at the model's flags and at NAB's best
    threshold; windows found and false alarms) and one PNG per file of the service's history."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.6))
    names = list(sets)
    profiles = list(next(iter(sets.values())).nab) if sets else []
    x = np.arange(len(profiles))
    width = 0.8 / max(2 * len(names), 1)
    for i, name in enumerate(names):
        for j, (kind, sweeps) in enumerate(
            (("flags", sets[name].nab_flags), ("best", sets[name].nab))
        ):
            offset = (2 * i + j - len(names) + 0.5) * width
            heights = [sweeps[p].score for p in profiles]
            left.bar(x + offset, heights, width=width, label=f"{name}, {kind}")
    left.set_xticks(x, profiles, fontsize=7)
    left.axhline(0, color="black", lw=0.6)
    left.set_ylabel("NAB score (100 = perfect)", fontsize=7)
    left.legend(fontsize=7)
    counts = np.arange(len(names))
    totals = [sets[n].total for n in names]
    right.bar(counts - 0.27, [t.windows for t in totals], width=0.27, label="windows")
    right.bar(counts, [t.detected for t in totals], width=0.27, label="found")
    right.bar(counts + 0.27, [t.false_positives for t in totals], width=0.27, label="false alarms")
    right.set_xticks(counts, names, fontsize=8)
    right.set_title("at the model's flags", fontsize=8)
    right.legend(fontsize=7)
    fig.tight_layout()
    summary = directory / "summary.png"
    fig.savefig(summary, dpi=90)
    plt.close(fig)
    written = [summary]
    for name, evaluation in sets.items():
        source = labelled.get(name)
        if source is None or not source.warm:  # per-file plots of the service's own files only
            continue
        threshold = (
            evaluation.nab["standard"].threshold if "standard" in evaluation.nab else math.nan
        )
        for scored in evaluation.files:
            feature, values = next(iter(source.series[scored.name].columns.items()))
            target = directory / (scored.name.replace("/", "__").rsplit(".", 1)[0] + ".png")
            plot_scored(scored, target, threshold, values, feature)
            written.append(target)
    return written
