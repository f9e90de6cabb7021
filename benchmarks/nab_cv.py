"""Does the learner's NAB quality carry over? Cross-validation across the shared files' categories.

    .venv/bin/python benchmarks/nab_cv.py [--data DIR] [--out benchmarks/results]

Each detector sees every file row by row (scored, then learned), in this one run. For each of the
four categories, a detector's threshold (and, for the grid, its configuration) is chosen on the
other three and the held-out category is scored at exactly that choice; NAB's whole-set score
(one best threshold over all 24 files) is shown beside it. The grid's nested folds estimate what
choosing a configuration by cross-validation is worth; the shipped default is the grid's
configuration with the best mean held-out score. Also: the flag's false-alarm rate on stationary
noise, `sentra score`'s speed and a learner's memory. Writes nab_cv.md, nab_cv.json, nab_cv.png.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `sentra_ml` importable from a checkout
    sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402
from sentra_training.scoring import score_series  # noqa: E402
from sentra_training.series import Series  # noqa: E402

from benchmarks.nab import (  # noqa: E402
    footprint,
    load_corpus,
    river_hst,
    river_sad,
    synthetic_service,
)
from benchmarks.nab_report import markdown, plot  # noqa: E402
from benchmarks.report import jsonable  # noqa: E402
from sentra_ml.analysis.anomaly import LearnerConfig, ServiceLearner  # noqa: E402
from sentra_ml.analysis.anomaly.likelihood import AnomalyLikelihood  # noqa: E402
from sentra_ml.analysis.nab import (  # noqa: E402
    PROFILES,
    Fold,
    cross_validate,
    point_weights,
    sweep,
)

# the learner as shipped before this benchmark existed
EARLIER = LearnerConfig(season_alpha=0.1, refractory=50)
GRID = {  # every value a priori round; the shipped default is one of these points
    "alpha": (0.005, 0.01, 0.02),
    "season_alpha": (0.05, 0.1, 0.2),
    "refractory": (25, 50, 100, 200),
}
Scores = dict[str, np.ndarray]


def grid_configs(grid: dict[str, tuple[float, ...]]) -> dict[str, LearnerConfig]:
    out = {}
    for values in itertools.product(*grid.values()):
        kwargs = dict(zip(grid, values, strict=True))
        name = " ".join(f"{k}={v}" for k, v in kwargs.items())
        out[name] = LearnerConfig(**kwargs)  # type: ignore[arg-type]
    return out


def learner_scores(series: Series, config: LearnerConfig) -> tuple[np.ndarray, np.ndarray]:
    """Scores and, for the likelihood baseline, -log p before the one-alert rule."""
    learner = ServiceLearner(config)
    values = series.columns["value"].tolist()
    scores, surprise = np.empty(len(values)), np.empty(len(values))
    for i, (ts, v) in enumerate(zip(series.times.tolist(), values, strict=True)):
        d = learner.update({"value": v}, ts)
        scores[i], surprise[i] = d.score, -math.log(max(d.p_sustained, 1e-300))
    return scores, surprise


def likelihood(surprise: np.ndarray) -> np.ndarray:
    """Numenta's anomaly likelihood of the learner's surprise, as -log10 of its tail (monotone)."""
    model = AnomalyLikelihood()
    out = np.empty(len(surprise))
    for i, e in enumerate(surprise.tolist()):
        out[i] = -math.log10(max(model.q_value(e), 1e-300))
        model.learn_one(e)
    return out


def stationary_false_alarms(config: LearnerConfig, n: int = 50_000) -> dict[str, Any]:
    """Flags per scored interval on Gaussian and exponential noise, one feature, 1-min steps."""
    rng = np.random.default_rng(0)
    warmup = min(2000, n // 10)
    out = {}
    for law, draws in {
        "gaussian": rng.normal(0, 1, n),
        "exponential": rng.exponential(1, n),
    }.items():
        learner = ServiceLearner(config)
        flags = sustained = 0
        for i, v in enumerate(draws.tolist()):
            d = learner.update({"x": v}, 60.0 * i)
            if i >= warmup:
                flags += d.flag
                sustained += d.p_sustained <= config.alarm_rate
        out[law] = {"flag": flags / (n - warmup), "p_sustained": sustained / (n - warmup)}
    return out


def fold_row(fold: Fold) -> dict[str, Any]:
    """A fold as JSON: the held-out score first, then what was chosen and what it found."""
    return {
        "held_out": fold.held_out,
        "score": fold.test.score if fold.windows else None,
        "raw": fold.test.raw,
        "candidate": fold.candidate,
        "threshold": fold.threshold,
        "train_score": fold.train.score,
        "windows": fold.windows,
        "detected": fold.detected,
        "false_positives": fold.false_positives,
    }


def folds_of(weights: dict, candidates: dict[str, Scores]) -> dict[str, list[dict[str, Any]]]:
    """Every profile's folds, the candidate and threshold chosen under that profile."""
    return {
        p: [fold_row(f) for f in cross_validate(weights[p], candidates, prof)]
        for p, prof in PROFILES.items()
    }


def mean_held_out(weights: dict, scores: Scores) -> float:
    """Mean standard score of the folds that hold windows (one candidate: its threshold only)."""
    folds = cross_validate(weights["standard"], {"one": scores}, PROFILES["standard"])
    return statistics.mean(f.test.score for f in folds if f.windows)


def run(
    data: Path,
    console: Console,
    grid_values: dict[str, tuple[float, ...]] = GRID,
    noise_intervals: int = 50_000,
) -> dict[str, Any]:
    labels, corpus, rows = load_corpus(data)
    weights = {
        p: {n: point_weights(s.times, labels[n], prof) for n, s in corpus.items()}
        for p, prof in PROFILES.items()
    }
    grid = grid_configs(grid_values)
    grid_scores: dict[str, Scores] = {k: {} for k in grid}
    baselines: dict[str, Scores] = {
        "earlier learner": {}, "anomaly likelihood": {}, "river SAD": {}, "river HST": {},
    }  # fmt: skip
    simple: dict[str, Callable[[Series], tuple[np.ndarray, np.ndarray]]] = {
        "river SAD": river_sad, "river HST": river_hst,
    }  # fmt: skip
    with Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console,
    ) as progress:  # fmt: skip
        task = progress.add_task("rows through detectors", total=rows * (len(grid) + 3))
        for name, series in corpus.items():
            scores, surprise = learner_scores(series, EARLIER)
            baselines["earlier learner"][name] = scores
            baselines["anomaly likelihood"][name] = likelihood(surprise)
            for key, scorer in simple.items():
                baselines[key][name] = scorer(series)[0]
            progress.advance(task, 3 * len(series))
            for key, config in grid.items():
                grid_scores[key][name] = learner_scores(series, config)[0]
                progress.advance(task, len(series))
    console.print("cross-validating ...")
    nested = folds_of(weights, grid_scores)
    # the shipped default: the grid point whose folds score best on average (standard)
    cv_mean = {k: mean_held_out(weights, scores) for k, scores in grid_scores.items()}
    chosen = max(cv_mean, key=lambda k: cv_mean[k])
    detectors: dict[str, Scores] = {"chosen default": grid_scores[chosen], **baselines}
    out: dict[str, Any] = {
        "rows": rows, "files": len(corpus), "chosen": chosen, "grid": grid_values,
        "grid_cv_mean": cv_mean, "detectors": {},
        "earlier_cv_mean": mean_held_out(weights, baselines["earlier learner"]),
    }  # fmt: skip
    for key, scores in detectors.items():
        whole = {
            p: sweep([(weights[p][n], scores[n]) for n in corpus], prof).score
            for p, prof in PROFILES.items()
        }
        out["detectors"][key] = {"whole_set": whole, "folds": folds_of(weights, {key: scores})}
    out["detectors"]["grid, nested"] = {
        "whole_set": out["detectors"]["chosen default"]["whole_set"], "folds": nested,
    }  # fmt: skip
    shipped = LearnerConfig()
    out["shipped_is_chosen"] = grid[chosen] == shipped
    out["false_alarms"] = {
        "shipped": stationary_false_alarms(shipped, noise_intervals),
        "earlier": stationary_false_alarms(EARLIER, noise_intervals),
    }
    largest = max(corpus, key=lambda n: len(corpus[n]))
    started = time.perf_counter()
    score_series(corpus[largest], shipped)
    out["sentra_score_rows_per_s"] = len(corpus[largest]) / (time.perf_counter() - started)
    series = corpus[largest]
    nab_rows = [
        (t, {"value": v})
        for t, v in zip(series.times.tolist(), series.columns["value"].tolist(), strict=True)
    ]
    out["footprint"] = {
        "nab": {"file": largest, **footprint(nab_rows)},
        "service": {"file": "synthetic, 1-minute intervals", **footprint(synthetic_service())},
    }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/datasets/nab"))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results")
    parser.add_argument(
        "--tiny", action="store_true", help="two grid points, short noise streams (a smoke run)"
    )
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    if args.tiny:
        tiny = {"alpha": (0.01,), "season_alpha": (0.05,), "refractory": (50, 100)}
        result = run(args.data, console, tiny, noise_intervals=3000)
    else:
        result = run(args.data, console)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "nab_cv.json").write_text(json.dumps(jsonable(result), indent=1) + "\n")
    (args.out / "nab_cv.md").write_text(markdown(result))
    plot(result, args.out / "nab_cv.png")
    table = Table(title=f"NAB standard: held-out category (chosen: {result['chosen']})")
    for column in ("detector", "whole set", "art. with anomaly", "ad exchange", "known cause",
                   "no-anomaly FPs"):  # fmt: skip
        table.add_column(column, justify="right")
    for key, entry in result["detectors"].items():
        folds = entry["folds"]["standard"]
        cells = [f"{f['score']:.1f}" for f in folds if f["windows"]]
        none = [str(f["false_positives"]) for f in folds if not f["windows"]]
        table.add_row(key, f"{entry['whole_set']['standard']:.1f}", *cells, *none)
    Console().print(table)
    console.print(f"wrote nab_cv.md, nab_cv.json, nab_cv.png to {args.out}")


if __name__ == "__main__":
    main()
