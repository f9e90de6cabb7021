"""What a training run records beside the model: the model's evaluation on labelled incidents
(scores, report, plots) and the rollouts of the service that its history covered."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from sentra_ml.store.model_bundle import ServiceModel
from sentra_training.evaluation import Evaluation
from sentra_training.model_eval import LabelledSet, evaluate_set, evaluation_metrics
from sentra_training.plots import plot_model_evaluation
from sentra_training.progress import rich_progress
from sentra_training.registry import record_evaluation, record_rollouts
from sentra_training.rollout_links import RolloutsUnavailable, rollouts_covered

SHORT = {"standard": "standard", "reward_low_FP_rate": "low FP", "reward_low_FN_rate": "low FN"}


def evaluate_sets(
    model: ServiceModel, sets: dict[str, LabelledSet], profiles: list[str], progress: bool
) -> dict[str, Evaluation]:
    """Each labelled set scored by the model, with a progress bar per set when asked."""
    results: dict[str, Evaluation] = {}
    for name, labelled in sets.items():
        if not progress:
            results[name] = evaluate_set(model, labelled, profiles)
            continue
        with rich_progress(f"{name}: {len(labelled.series)} file(s)", labelled.rows) as advance:
            results[name] = evaluate_set(model, labelled, profiles, advance)
    return results


def evaluation_report(label: str, results: dict[str, Evaluation]) -> dict[str, Any]:
    """The evaluation as JSON (`--json`, and `evaluation/report.json` in the run)."""

    def finite(x: float) -> float | None:
        return x if math.isfinite(x) else None

    sets: dict[str, Any] = {}
    for name, evaluation in results.items():
        t = evaluation.total
        sets[name] = {
            "files": len(evaluation.files),
            "windows": t.windows,
            "windows_found": t.detected,
            "false_alarms": t.false_positives,
            "mean_delay_s": finite(t.mean_delay_s),
            "nab": {
                p: {
                    "score_at_flags": evaluation.nab_flags[p].score,
                    "score_best": evaluation.nab[p].score,
                    "best_threshold": finite(evaluation.nab[p].threshold),
                }
                for p in evaluation.nab
            },
            "per_file": {
                f: {"windows": c.windows, "found": c.detected, "false_alarms": c.false_positives}
                for f, c in evaluation.counts.items()
            },
        }
    return {"model": label, "sets": sets}


def write_and_record(
    uri: str | None,
    run_id: str | None,
    label: str,
    results: dict[str, Evaluation],
    sets: dict[str, LabelledSet],
    plots: Path,
) -> tuple[dict[str, Any], list[Path]]:
    """Plots into `plots`; with a run, the metrics, report and plots logged into it."""
    written = plot_model_evaluation(results, sets, plots)
    report = evaluation_report(label, results)
    if uri is not None and run_id is not None:
        record_evaluation(uri, run_id, evaluation_metrics(results), report, written)
    return report, written


def link_rollouts(
    uri: str, run_id: str, service: str, start: float, end: float, database_url: str
) -> str:
    """Record in the run the service's rollouts during [start, end]; a line saying what was
    recorded (an audit database that cannot be read is recorded as such, not fatal)."""
    try:
        rollouts = rollouts_covered(database_url, service, start, end)
    except RolloutsUnavailable as e:
        record_rollouts(uri, run_id, None, start, end, str(e))
        return f"unknown ({e})"
    record_rollouts(uri, run_id, rollouts, start, end, "audit database")
    outcomes: dict[str, int] = {}
    for r in rollouts:
        outcomes[r.state] = outcomes.get(r.state, 0) + 1
    detail = ", ".join(f"{n} {state}" for state, n in sorted(outcomes.items()))
    return f"{len(rollouts)}" + (f" ({detail})" if detail else "")


def evaluation_tables(
    label: str, results: dict[str, Evaluation], profiles: list[str]
) -> list[Table]:
    """The evaluation as rich tables: per data set, then the service's history file by file."""
    table = Table(
        title=f"{label}: NAB scores at the model's flags / at NAB's best threshold",
        caption="0 = never detects, 100 = detects every window at its start",
    )
    table.add_column("data", no_wrap=True)
    for column in (
        "files",
        "windows",
        "found",
        "false alarms",
        *(SHORT.get(p, p) for p in profiles),
    ):
        table.add_column(column, justify="right")
    for name, evaluation in results.items():
        t = evaluation.total
        cells = [
            f"{evaluation.nab_flags[p].score:.1f} / {evaluation.nab[p].score:.1f}" for p in profiles
        ]
        table.add_row(
            name, str(len(evaluation.files)), str(t.windows), str(t.detected),
            str(t.false_positives), *cells,
        )  # fmt: skip
    own = results.get("history")
    if own is None:
        return [table]
    files = Table(title="The service's history, file by file (at the model's flags)")
    for column in ("file", "windows", "found", "false alarms", "mean delay"):
        files.add_column(column, justify="left" if column == "file" else "right")
    for name, c in own.counts.items():
        delay = "-" if math.isnan(c.mean_delay_s) else f"{c.mean_delay_s / 60:.0f} min"
        files.add_row(escape(name), str(c.windows), str(c.detected), str(c.false_positives), delay)
    return [table, files]
