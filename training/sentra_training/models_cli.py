"""`sentra models`: list a service's registered versions, move an alias, compare two versions."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from sentra_training.train_cli import check_service, fail

if TYPE_CHECKING:
    from sentra_training.registry import VersionRow

models_app = typer.Typer(
    help="Registered models: list, promote (and back), compare.", no_args_is_help=True
)
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


@models_app.command()
def compare(
    service: Annotated[str, typer.Argument(help="The service.")],
    first: Annotated[int, typer.Argument(help="A version.")],
    second: Annotated[int, typer.Argument(help="Another version.")],
    plot: Annotated[Path, typer.Option(help="Where to write the comparison plot.")] = Path(
        "compare.png"
    ),
) -> None:
    """Two versions side by side: their metrics in a table and a plot."""
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
    for key in COMPARED:
        x, y = a.get(key, math.nan), b.get(key, math.nan)
        values[key] = (x, y)
        table.add_row(key, f"{x:.4g}", f"{y:.4g}", f"{y - x:+.3g}")
    for key in ("seed", "target_false_alarm_rate", "source"):
        table.add_row(key, rows[first].params.get(key, "-"), rows[second].params.get(key, "-"), "")
    Console().print(table)
    rates = {k: v for k, v in values.items() if "rate" in k}
    plot_comparison(f"sentra-{service}", rates, (f"v{first}", f"v{second}"), plot)
    err = Console(stderr=True)
    err.print(f"plot -> {plot}", highlight=False)
