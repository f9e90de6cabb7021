"""One column per scenario: the canary's weight, each cohort's error ratio and p99 latency as
the load generator saw them (2 s bins), with the fault's onset and every decision marked."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sentra_ml.realdemo.play import Played

BIN_SECONDS = 2.0
STYLE = {"baseline": ("tab:blue", "-"), "canary": ("tab:orange", "--")}  # not colour alone


def _binned(played: Played) -> dict[str, dict[float, list[tuple[bool, float]]]]:
    bins: dict[str, dict[float, list[tuple[bool, float]]]] = defaultdict(lambda: defaultdict(list))
    for r in played.responses:
        t = (r.ts - played.created) // BIN_SECONDS * BIN_SECONDS
        bins[r.cohort or "canary"][t].append((r.failed, r.seconds * 1000))
    return bins


def plot(played: list[Played], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, len(played), figsize=(4.2 * len(played), 7.5), squeeze=False,
                             sharex="col")  # fmt: skip
    for col, p in enumerate(played):
        weight_ax, error_ax, p99_ax = axes[:, col]
        times, weights = [0.0], [0.0]
        served = iter(p.served)
        for change in p.changes:
            if change["status"] in ("applied", "reconciled"):
                at = next((s for s in served if s >= change["ts"] - 0.05), change["settled_at"])
                times.append(at - p.created)
                weights.append(change["weight"])
        end = max((r.ts for r in p.responses), default=p.created) - p.created
        weight_ax.step([*times, end], [*weights, weights[-1]], where="post", color="black")
        weight_ax.set_title(f"{p.scenario.name}: {p.state}")
        for cohort, by_bin in sorted(_binned(p).items()):
            color, line = STYLE.get(cohort, ("gray", ":"))
            ts = sorted(by_bin)
            ratios = [sum(f for f, _ in by_bin[t]) / len(by_bin[t]) for t in ts]
            p99 = [sorted(s for _, s in by_bin[t])[int(0.99 * (len(by_bin[t]) - 1))] for t in ts]
            error_ax.plot(ts, ratios, line, color=color, label=cohort)
            p99_ax.plot(ts, p99, line, color=color, label=cohort)
        for ax in (weight_ax, error_ax, p99_ax):
            if p.onset is not None:
                ax.axvline(p.onset - p.created, color="red", linestyle="-.", linewidth=1)
            for t in times[1:]:
                ax.axvline(t, color="gray", linestyle=":", linewidth=0.8)
        p99_ax.set_xlabel("seconds since the rollout was created")
        if col == 0:
            weight_ax.set_ylabel("canary weight (%)")
            error_ax.set_ylabel("error ratio")
            p99_ax.set_ylabel("p99 latency (ms)")
            error_ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(f"{title} (dash-dot: fault onset; dotted: weights served)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
