"""`sentra train`: fit a service's model on its healthy history, learn its step policy from its
past rollouts, and publish both to MLflow as one model."""

from __future__ import annotations

import math
import re
import tempfile
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:  # numpy and pandas load only when a command runs, not for --help
    from sentra_ml.store.model_bundle import ServiceModel
    from sentra_training.model_eval import LabelledSet

SERVICE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
# features named as the judge names them (`interval_features`): `<metric>.ratio`, `.p99.log`
DEFAULT_QUERIES = {
    "errors.ratio": 'sum(rate(http_requests_total{{service="{s}",code=~"5.."}}[5m])) '
    '/ sum(rate(http_requests_total{{service="{s}"}}[5m]))',
    "latency.p99.log": "ln(1 + 1000 * histogram_quantile(0.99, sum by (le) "
    '(rate(http_request_duration_seconds_bucket{{service="{s}"}}[5m]))))',
}

err = Console(stderr=True, soft_wrap=True)


class Source(StrEnum):
    file = "file"
    prometheus = "prometheus"
    cloudwatch = "cloudwatch"


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def check_service(service: str) -> str:
    if not SERVICE.match(service):
        raise fail(f"--service: {service!r} is not a service name (a-z, 0-9, '.', '_', '-')")
    return service


def _queries(service: str, given: list[str] | None) -> dict[str, str]:
    if not given:
        return {name: q.format(s=service) for name, q in DEFAULT_QUERIES.items()}
    queries: dict[str, str] = {}
    for item in given:
        name, sep, query = item.partition("=")
        if not sep or not name.strip() or not query.strip():
            raise fail(f"--query: {item!r} is not FEATURE=PROMQL")
        queries[name.strip()] = query.strip()
    return queries


def train(
    service: Annotated[str, typer.Option(help="The service whose model this is.")],
    source: Annotated[Source, typer.Option(help="Where the healthy history comes from.")],
    path: Annotated[
        Path | None,
        typer.Option(help="--source file: CSV, JSON lines or Parquet (timestamp + features)."),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="Prometheus' base URL; for cloudwatch an endpoint (default: AWS's)."),
    ] = None,
    since: Annotated[str, typer.Option(help="prometheus, cloudwatch: history length.")] = "14d",
    step: Annotated[
        float, typer.Option(help="prometheus, cloudwatch: seconds per interval.")
    ] = 60.0,
    query: Annotated[
        list[str] | None,
        typer.Option(help="--source prometheus: FEATURE=PROMQL (repeat; default: errors, p99)."),
    ] = None,
    metrics: Annotated[
        Path | None,
        typer.Option(help="--source cloudwatch: YAML/JSON list of metrics, as a rollout's."),
    ] = None,
    dimension: Annotated[
        list[str] | None,
        typer.Option(help="--source cloudwatch: Name=Value selecting the service (repeat)."),
    ] = None,
    region: Annotated[str | None, typer.Option(help="--source cloudwatch: AWS region.")] = None,
    target_false_alarm_rate: Annotated[
        float, typer.Option(help="False alarms per interval allowed on the healthy history.")
    ] = 1e-3,
    holdout: Annotated[float, typer.Option(help="Share of the history kept to test it.")] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed: the same history and seed, the same model.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Also write the model bundle here.")] = None,
    eval_history: Annotated[
        list[Path] | None,
        typer.Option(help="Evaluate the model on this labelled history file (repeat)."),
    ] = None,
    labels: Annotated[
        Path | None, typer.Option(help="NAB windows JSON of the --eval-history files.")
    ] = None,
    nab: Annotated[
        Path | None, typer.Option(help="Also evaluate the model on this NAB corpus folder.")
    ] = None,
    mlflow: Annotated[bool, typer.Option(help="Log and register the run in MLflow.")] = True,
    rollouts: Annotated[
        bool,
        typer.Option(help="Also learn the step policy from the service's past rollouts."),
    ] = True,
    database_url: Annotated[
        str | None,
        typer.Option(help="The audit database with the past rollouts (default: Sentra's own)."),
    ] = None,
    policy_runs: Annotated[
        int, typer.Option(help="Simulated rollouts per policy and scenario when learning it.")
    ] = 5,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Fit the service's learner on healthy history, calibrate its flags, learn its step policy
    from its past rollouts, register the model."""
    from sentra_ml.settings import get_settings
    from sentra_ml.store.model_bundle import write_bundle
    from sentra_ml.store.model_registry import RegistryUnavailable
    from sentra_training.cloudwatch_history import cloudwatch_since
    from sentra_training.fit import TrainingOptions, fit_service_model
    from sentra_training.history import parse_duration, prometheus_history, read_history
    from sentra_training.model_eval import labelled_sets
    from sentra_training.plots import plot_training
    from sentra_training.progress import rich_progress
    from sentra_training.registry import log_training
    from sentra_training.run_records import link_rollouts
    from sentra_training.series import InputError

    check_service(service)
    options = TrainingOptions(target_false_alarm_rate, holdout, seed)
    started = time.perf_counter()
    try:
        options.check()
        if source is Source.file:
            if path is None:
                raise fail("--path: required with --source file")
            history, origin = read_history(path), str(path)
        elif source is Source.cloudwatch:
            if metrics is None:
                raise fail("--metrics: required with --source cloudwatch")
            history, origin = cloudwatch_since(metrics, dimension or [], since, step, region, url)
        else:
            if url is None:
                raise fail("--url: required with --source prometheus")
            if not step > 0:
                raise fail("--step: must be > 0")
            end = math.floor(time.time() / step) * step
            seconds = parse_duration(since)
            history = prometheus_history(url, _queries(service, query), end - seconds, end, step)
            origin = f"prometheus {url} last {since}"
        labelled = labelled_sets(eval_history or [], labels, nab)
        if progress:
            with rich_progress(f"training {service} (2 passes)", 2 * len(history)) as advance:
                trained = fit_service_model(
                    history, service, options, source=origin, progress=advance
                )
        else:
            trained = fit_service_model(history, service, options, source=origin)
    except InputError as e:
        raise fail(str(e)) from None
    learned = None
    if rollouts:
        from sentra_training.policy_cli import AuditUnavailable, learn_from_audit

        try:
            learned = learn_from_audit(
                service, database_url or get_settings().resolved_database_url(), policy_runs,
                seed, progress=progress, explicit=database_url is not None,
            )  # fmt: skip
        except (AuditUnavailable, InputError) as e:
            raise fail(str(e)) from None
        if learned is not None:
            from sentra_training.step_policy import with_policy

            trained = with_policy(trained, learned)
    if out is not None:
        write_bundle(trained.model, out)
    run_id = version = None
    if mlflow:
        settings = get_settings()
        uri = settings.resolved_mlflow_uri()
        with tempfile.TemporaryDirectory(prefix="sentra-plots-") as folder:
            plot = plot_training(
                trained.times,
                trained.p_values,
                trained.metrics["alarm_rate"],
                trained.split,
                Path(folder) / "calibration.png",
            )
            try:
                run_id, version = log_training(
                    uri, trained, [plot], settings.mlflow_artifact_root()
                )
            except RegistryUnavailable as e:
                raise fail(str(e), code=1) from None
    rows: list[tuple[str, str]] = []
    try:
        if run_id is not None:
            start, end = float(trained.times[0]), float(trained.times[-1])
            database = database_url or get_settings().resolved_database_url()
            covered = link_rollouts(uri, run_id, service, start, end, database)
            rows.append(("rollouts covered", covered))
        if labelled:
            name = f"sentra-{service} version {version}" if version else f"{service} (new)"
            _evaluate(trained.model, labelled, name, run_id, progress)
    except InputError as e:
        raise fail(str(e)) from None
    except RegistryUnavailable as e:
        raise fail(str(e), code=1) from None
    _summary(
        service, trained.metrics, options, time.perf_counter() - started, run_id, version, out, rows
    )
    if learned is not None:
        from sentra_training.policy_cli import policy_table

        Console().print(policy_table(service, learned))


def _evaluate(
    model: ServiceModel,
    sets: dict[str, LabelledSet],
    label: str,
    run_id: str | None,
    progress: bool,
) -> None:
    from sentra_ml.analysis.nab import PROFILES
    from sentra_ml.settings import get_settings
    from sentra_training.run_records import evaluate_sets, evaluation_tables, write_and_record

    profiles = list(PROFILES)
    results = evaluate_sets(model, sets, profiles, progress)
    uri = get_settings().resolved_mlflow_uri() if run_id is not None else None
    with tempfile.TemporaryDirectory(prefix="sentra-evaluation-") as folder:
        write_and_record(uri, run_id, label, results, sets, Path(folder))
    for table in evaluation_tables(label, results, profiles):
        Console().print(table)


def _summary(
    service: str,
    metrics: dict[str, float],
    options: object,
    seconds: float,
    run_id: str | None,
    version: int | None,
    out: Path | None,
    extra: list[tuple[str, str]] | None = None,
) -> None:
    table = Table(title=f"Model of {service}")
    table.add_column("", style="bold")
    table.add_column("value", justify="right")
    rows = [
        ("intervals", f"{metrics['intervals']:.0f}"),
        ("features", f"{metrics['features']:.0f}"),
        ("target false-alarm rate", f"{getattr(options, 'target_false_alarm_rate', 0):.3g}"),
        ("calibrated alarm rate", f"{metrics['alarm_rate']:.3g}"),
        (
            "false alarms, calibration",
            f"{metrics['false_alarms_calibration']:.0f} "
            f"({metrics['false_alarm_rate_calibration']:.2g})",
        ),
        (
            "false alarms, held out",
            f"{metrics['false_alarms_holdout']:.0f} ({metrics['false_alarm_rate_holdout']:.2g})",
        ),
        ("time", f"{seconds:.1f} s"),
    ]
    if version is not None:
        rows.append(("registered", f"sentra-{service} version {version} (run {run_id})"))
    if out is not None:
        rows.append(("bundle", str(out)))
    rows += extra or []
    for key, value in rows:
        table.add_row(key, value)
    Console().print(table)
