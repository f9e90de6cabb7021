"""`sentra models`: list a service's registered versions, move an alias, compare two versions."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from sentra_training.train_cli import check_service, fail

if TYPE_CHECKING:
    from sentra_training.registry import VersionRow

models_app = typer.Typer(
    help="Registered models: list, promote (and back), compare, show.", no_args_is_help=True
)
# NAB's profiles (sentra_ml.analysis.nab.PROFILES: importing it loads numpy for --help)
PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
EVAL_COUNTS = ("files", "windows", "windows_found", "false_alarms", "mean_delay_s")
COMPARED = (
    "alarm_rate",
    "false_alarm_rate_calibration",
    "false_alarm_rate_holdout",
    "false_alarms_calibration",
    "false_alarms_holdout",
    "intervals",
)


def _uri() -> str:
    from sentra_ml.settings import get_settings

    return get_settings().resolved_mlflow_uri()


def _versions(service: str) -> list[VersionRow]:
    from sentra_ml.store.model_registry import RegistryUnavailable
    from sentra_training.registry import list_versions

    check_service(service)
    try:
        return list_versions(_uri(), service)
    except LookupError as e:
        raise fail(str(e.args[0])) from None
    except RegistryUnavailable as e:
        raise fail(str(e), code=1) from None


@models_app.command("list")
def list_models(service: Annotated[str, typer.Argument(help="The service.")]) -> None:
    """Every version of sentra-SERVICE, newest first, with its aliases and metrics."""
    table = Table(title=f"sentra-{service}")
    for column in ("version", "aliases", "created", "intervals", "alarm rate", "FA held out"):
        table.add_column(column, justify="right" if column != "aliases" else "left")
    for row in _versions(service):
        created = datetime.fromtimestamp(row.created / 1000, UTC).strftime("%Y-%m-%d %H:%M")
        m = row.metrics
        table.add_row(
            str(row.version),
            ", ".join(row.aliases) or "-",
            created,
            f"{m.get('intervals', math.nan):.0f}",
            f"{m.get('alarm_rate', math.nan):.3g}",
            f"{m.get('false_alarm_rate_holdout', math.nan):.3g}",
        )
    Console().print(table)


@models_app.command()
def promote(
    service: Annotated[str, typer.Argument(help="The service.")],
    version: Annotated[int, typer.Option(help="The version the alias will point to.", min=1)],
    alias: Annotated[str, typer.Option(help="The alias (the judging loop reads production).")] = (
        "production"
    ),
) -> None:
    """Point an alias at a version; promoting the previous version back is a model rollback."""
    from sentra_ml.store.model_registry import RegistryUnavailable
    from sentra_training.registry import set_alias

    check_service(service)
    try:
        before = set_alias(_uri(), service, version, alias)
    except LookupError as e:
        raise fail(str(e.args[0])) from None
    except RegistryUnavailable as e:
        raise fail(str(e), code=1) from None
    was = f" (was version {before})" if before is not None else ""
    Console().print(f"sentra-{service}@{alias} -> version {version}{was}", highlight=False)


def _evaluation_keys(*metrics: dict[str, float]) -> list[str]:
    """The evaluation metrics either version recorded: per set, the NAB scores at the flags and
    at the best threshold, then the counts."""
    keys = {k for m in metrics for k in m if k.startswith("eval.")}
    order = (*PROFILES, *(f"{p}.best" for p in PROFILES), *EVAL_COUNTS)

    def rank(key: str) -> tuple[int, int]:
        _, data, rest = key.split(".", 2)
        return (0 if data == "history" else 1, order.index(rest) if rest in order else len(order))

    return sorted((k for k in keys if k.split(".", 2)[2] in order), key=rank)


@models_app.command()
def compare(
    service: Annotated[str, typer.Argument(help="The service.")],
    first: Annotated[int, typer.Argument(help="A version.")],
    second: Annotated[int, typer.Argument(help="Another version.")],
    plot: Annotated[Path, typer.Option(help="Where to write the comparison plot.")] = Path(
        "compare.png"
    ),
) -> None:
    """Two versions side by side: training metrics and recorded evaluations, table and plot."""
    from sentra_training.plots import plot_comparison

    rows = {row.version: row for row in _versions(service)}
    for v in (first, second):
        if v not in rows:
            raise fail(f"sentra-{service}: no version {v} (have {sorted(rows)})")
    if not plot.parent.is_dir():
        raise fail(f"--plot: folder {plot.parent} does not exist")
    a, b = rows[first].metrics, rows[second].metrics
    table = Table(title=f"sentra-{service}: version {first} against {second}")
    table.add_column("metric", no_wrap=True)
    for column in (f"v{first}", f"v{second}", "change"):
        table.add_column(column, justify="right", overflow="fold")
    values: dict[str, tuple[float, float]] = {}
    evaluated = _evaluation_keys(a, b)
    for key in (*COMPARED, *evaluated):
        x, y = a.get(key, math.nan), b.get(key, math.nan)
        values[key] = (x, y)
        table.add_row(key, f"{x:.4g}", f"{y:.4g}", f"{y - x:+.3g}")
    for key in ("seed", "target_false_alarm_rate", "source"):
        table.add_row(key, rows[first].params.get(key, "-"), rows[second].params.get(key, "-"), "")
    out = Console()
    out.print(table)
    err = Console(stderr=True)
    if not evaluated:
        err.print(
            f"no evaluation recorded: `sentra evaluate --service {service} --version N`",
            highlight=False,
        )
    for data in ("history", "nab"):
        seen = {values.get(f"eval.{data}.windows", (math.nan,) * 2)[i] for i in (0, 1)}
        if len(seen) == 2 and not any(math.isnan(x) for x in seen):
            err.print(f"[yellow]eval.{data}: the versions were evaluated on different windows[/]")
    rates = {k: v for k, v in values.items() if "rate" in k and not k.startswith("eval.")}
    scores = {
        k.removeprefix("eval."): v
        for k, v in values.items()
        if k.startswith("eval.") and k.split(".", 2)[2].split(".")[0] in PROFILES
    }
    plot_comparison(f"sentra-{service}", rates, (f"v{first}", f"v{second}"), plot, scores)
    err.print(f"plot -> {plot}", highlight=False)


@models_app.command()
def show(
    service: Annotated[str, typer.Argument(help="The service.")],
    version: Annotated[int, typer.Argument(help="The version.")],
) -> None:
    """One version: its metrics, the rollouts its history covered (from its MLflow run) and the
    rollouts judged with it (from the audit database)."""
    from sentra_ml.settings import get_settings
    from sentra_ml.store.model_registry import RegistryUnavailable
    from sentra_training.registry import read_rollouts
    from sentra_training.rollout_links import RolloutsUnavailable, rollouts_judged_with

    rows = {row.version: row for row in _versions(service)}
    if version not in rows:
        raise fail(f"sentra-{service}: no version {version} (have {sorted(rows)})")
    row = rows[version]
    out = Console()
    created = datetime.fromtimestamp(row.created / 1000, UTC).strftime("%Y-%m-%d %H:%M")
    aliases = ", ".join(row.aliases) or "no alias"
    out.print(
        f"sentra-{service} version {version} ({aliases}), run {row.run_id}, created {created}\n"
        f"history: {row.params.get('source', '-')}, {_span(row.tags)}",
        highlight=False,
    )
    metrics = Table(title="metrics")
    metrics.add_column("metric", no_wrap=True)
    metrics.add_column("value", justify="right")
    for key in (*COMPARED, *_evaluation_keys(row.metrics)):
        if key in row.metrics:
            metrics.add_row(key, f"{row.metrics[key]:.4g}")
    out.print(metrics)
    try:
        trained_on = read_rollouts(_uri(), row.run_id)
    except RegistryUnavailable as e:
        raise fail(str(e), code=1) from None
    if trained_on is None:
        why = row.tags.get("sentra.rollouts.error", "not recorded by this run")
        out.print(f"rollouts its history covered: unknown ({why})", highlight=False)
    else:
        _print_rollouts(out, "rollouts its history covered", trained_on)
    try:
        judged = rollouts_judged_with(get_settings().resolved_database_url(), service, version)
    except RolloutsUnavailable as e:
        raise fail(str(e), code=1) from None
    _print_rollouts(out, "rollouts judged with it", [r.as_json() for r in judged])


def _span(tags: dict[str, str]) -> str:
    try:
        start, end = (float(tags[f"sentra.history.{k}"]) for k in ("start", "end"))
    except (KeyError, ValueError):
        return "time range not recorded"
    return f"{_when(start)} to {_when(end)}"


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def _print_rollouts(out: Console, title: str, rollouts: list[dict[str, Any]]) -> None:
    if not rollouts:
        out.print(f"{title}: none", highlight=False)
        return
    table = Table(title=f"{len(rollouts)} {title}")
    for column in ("rollout", "outcome", "baseline -> canary", "started", "last change"):
        table.add_column(column)
    if any("decisions" in r and r["decisions"] for r in rollouts):
        table.add_column("decisions", justify="right")
    for r in rollouts:
        cells = [
            r["id"],
            r["state"],
            f"{r['baseline_version']} -> {r['canary_version']}",
            _when(r["created_at"]),
            _when(r["updated_at"]),
        ]
        if len(table.columns) == 6:
            cells.append(str(r.get("decisions", "")))
        table.add_row(*cells)
    out.print(table)
