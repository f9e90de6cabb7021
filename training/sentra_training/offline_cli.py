"""`sentra score` and `sentra evaluate`: offline anomaly scoring and its NAB evaluation."""

from __future__ import annotations

import json
import math
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:  # numpy, pandas, matplotlib load only when a command runs, not for --help
    from sentra_training.evaluation import Evaluation

ALARM_RATE = 1e-3  # LearnerConfig.alarm_rate, which a test keeps equal (importing it is slow)


class Profile(StrEnum):
    """NAB's application profiles."""

    standard = "standard"
    reward_low_FP_rate = "reward_low_FP_rate"
    reward_low_FN_rate = "reward_low_FN_rate"


app = typer.Typer(help="Offline anomaly scoring and NAB evaluation.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)  # whole lines: messages name paths


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


@app.command()
def score(
    input: Annotated[Path, typer.Option("--input", help="CSV: a timestamp column, numeric ones.")],
    output: Annotated[Path, typer.Option(help="CSV written: timestamp, score, flag.")],
    alarm_rate: Annotated[
        float, typer.Option(help="Target false alarms per row (flag when p <= this).")
    ] = ALARM_RATE,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Stream a series through one online learner as live: each row scored, then learned."""
    from sentra_ml.analysis.anomaly import LearnerConfig
    from sentra_training.progress import rich_progress
    from sentra_training.scoring import score_series, write_scores
    from sentra_training.series import InputError, read_series

    if not 0 < alarm_rate < 1:
        raise fail("--alarm-rate: must be in (0, 1)")
    if not output.parent.is_dir():
        raise fail(f"--output: folder {output.parent} does not exist")
    started = time.perf_counter()
    try:
        series = read_series(input)
    except InputError as e:
        raise fail(str(e)) from None
    config = LearnerConfig(alarm_rate=alarm_rate)
    if progress:
        with rich_progress(f"scoring {input.name}", len(series)) as advance:
            scores, flags = score_series(series, config, advance)
    else:
        scores, flags = score_series(series, config)
    write_scores(output, series.stamps, scores, flags)
    seconds = time.perf_counter() - started
    err.print(
        f"{len(series)} rows, {len(series.columns)} feature(s), {int(flags.sum())} flagged; "
        f"{seconds:.2f} s ({len(series) / max(seconds, 1e-9):,.0f} rows/s) -> {output}",
        highlight=False,
    )


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _percent(x: float) -> str:
    return "-" if math.isnan(x) else f"{100 * x:.0f} %"


@app.command()
def evaluate(
    scores: Annotated[Path, typer.Option("--scores", help="Folder of `score` outputs.")],
    labels: Annotated[
        Path, typer.Option(help="NAB windows JSON: each file to its list of (start, end).")
    ],
    profile: Annotated[
        Profile | None, typer.Option(help="One NAB profile (default: all three).")
    ] = None,
    plots: Annotated[Path | None, typer.Option(help="Write one PNG per file here.")] = None,
    data: Annotated[
        Path | None, typer.Option(help="Folder of the input series, to draw them in the plots.")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the results as JSON.")
    ] = None,
) -> None:
    """Precision, recall, F1, delay at the flags, and NAB scores (threshold tuned as NAB)."""
    from sentra_ml.analysis.nab import PROFILES
    from sentra_training.evaluation import evaluate_scores, read_labels
    from sentra_training.plots import plot_evaluation
    from sentra_training.series import InputError

    if not scores.is_dir():
        raise fail(f"--scores: {scores} is not a folder")
    profiles = [str(profile)] if profile else list(PROFILES)
    try:
        evaluation = evaluate_scores(scores, read_labels(labels), profiles)
        written = plot_evaluation(evaluation, plots, profiles[0], data) if plots else []
    except InputError as e:
        raise fail(str(e)) from None
    out = Console()
    table = Table(title="Detections at the scorer's own flags (scored period)")
    for column in (
        "file",
        "windows",
        "detected",
        "false pos.",
        "precision",
        "recall",
        "F1",
        "mean delay",
    ):
        if column == "file":
            table.add_column(column, overflow="fold")
        else:
            table.add_column(column, justify="right")
    rows = [*evaluation.counts.items(), ("all", evaluation.total)]
    for name, c in rows:
        delay = "-" if math.isnan(c.mean_delay_s) else f"{c.mean_delay_s / 3600:.1f} h"
        table.add_row(
            name,
            str(c.windows),
            str(c.detected),
            str(c.false_positives),
            _percent(c.precision),
            _percent(c.recall),
            _percent(c.f1),
            delay,
        )
    out.print(table)
    nab = Table(title=f"NAB scores over {len(evaluation.files)} files (0 = null, 100 = perfect)")
    for column in ("profile", "best threshold", "score", "score at own flags"):
        nab.add_column(column, justify="right")
    for key in profiles:
        best, flagged = evaluation.nab[key], evaluation.nab_flags[key]
        nab.add_row(key, f"{best.threshold:.6g}", f"{best.score:.1f}", f"{flagged.score:.1f}")
    out.print(nab)
    for name in evaluation.missing:
        err.print(f"[yellow]no scores for[/] {escape(name)}", highlight=False)
    if written:
        err.print(f"{len(written)} plots -> {plots}", highlight=False)
    if json_out is not None:
        json_out.write_text(json.dumps(_as_json(evaluation, profiles), indent=2) + "\n")


def _as_json(evaluation: Evaluation, profiles: list[str]) -> dict[str, object]:
    t = evaluation.total
    return {
        "nab": {
            k: {
                "score": evaluation.nab[k].score,
                "threshold": _finite(evaluation.nab[k].threshold),
                "score_at_flags": evaluation.nab_flags[k].score,
            }
            for k in profiles
        },
        "precision": _finite(t.precision),
        "recall": _finite(t.recall),
        "f1": _finite(t.f1),
        "mean_delay_s": _finite(t.mean_delay_s),
        "files": {
            name: {
                "windows": c.windows,
                "detected": c.detected,
                "false_positives": c.false_positives,
            }
            for name, c in evaluation.counts.items()
        },
        "missing": evaluation.missing,
    }
