"""The `sentra` program. Subcommands parse arguments and delegate; no logic lives here."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sentra_training import evaluate_cli, offline_cli, train_cli
from sentra_training.models_cli import models_app

from sentra_ml import token_cli
from sentra_ml.client.commands import rollouts_app

app = typer.Typer(
    help="Sentra: live telemetry into safe rollout decisions.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
err = Console(stderr=True)
app.command("score")(offline_cli.score)
app.command("evaluate")(evaluate_cli.evaluate)
app.command("train")(train_cli.train)
app.add_typer(models_app, name="models")
app.add_typer(rollouts_app, name="rollouts")


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


@app.command()
def replay(
    spec: Annotated[Path, typer.Option(help="Rollout spec (YAML).")],
    input: Annotated[Path, typer.Option("--input", help="Telemetry, JSON lines ('-' = stdin).")],
    output: Annotated[
        Path | None, typer.Option(help="Decisions, JSON lines (default: stdout).")
    ] = None,
    every: Annotated[float, typer.Option(help="Seconds of telemetry between evaluations.")] = 2.0,
    skip_bad_lines: Annotated[
        bool, typer.Option(help="Skip malformed lines (reported) instead of stopping.")
    ] = False,
) -> None:
    """Stream recorded telemetry through the judge as if live (shadow analysis)."""
    from sentra_ml.analysis.types.errors import SpecError
    from sentra_ml.replay import ReplayError, replay_file, verdict_json
    from sentra_ml.spec import load_spec

    if every <= 0:
        raise fail("--every: must be > 0")
    try:
        rollout = load_spec(spec)
    except SpecError as e:
        raise fail(str(e)) from None
    if output is not None and not output.parent.is_dir():
        raise fail(f"--output: folder {output.parent} does not exist")
    try:
        source = sys.stdin if str(input) == "-" else input.open()
    except OSError as e:
        raise fail(f"--input: cannot read {input} ({e.strerror})") from None
    try:
        with source:
            report = replay_file(
                rollout,
                source,
                output,
                every=every,
                skip_bad=skip_bad_lines,
                on_verdict=(lambda v: typer.echo(verdict_json(v))) if output is None else None,
            )
    except ReplayError as e:
        raise fail(f"{input}: {e}") from None
    for message in report.skipped:
        err.print(f"[yellow]skipped[/] {message}", highlight=False)
    final = report.final
    summary = (
        f"{report.samples} samples, {report.evaluations} evaluations; "
        f"last verdict: {final.action if final else 'none'}"
        + (f" at ts={final.ts:g}, weight {final.weight:g} %" if final else "")
    )
    err.print(summary, highlight=False)


@app.command()
def demo(
    fast: Annotated[bool, typer.Option(help="No pauses between ticks (for scripts).")] = False,
    real: Annotated[
        bool, typer.Option("--real", help="Real NGINX/HAProxy/Envoy + Prometheus + controller.")
    ] = False,
    router: Annotated[str, typer.Option(help="With --real: nginx, haproxy or envoy.")] = "nginx",
    short: Annotated[
        bool, typer.Option("--short", help="With --real: the two-scenario version (CI).")
    ] = False,
    results: Annotated[
        Path, typer.Option("--out", help="With --real: folder for JSON + PNG.")
    ] = Path("real-loop"),
    embedded: Annotated[
        bool, typer.Option("--embedded", help="With --real: SQLite + in-process bus.")
    ] = False,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="With --real: play only this scenario.")
    ] = None,
) -> None:
    """Play a healthy and a faulty rollout with a live view (simulated; or --real)."""
    if real:
        from sentra_ml.realdemo.cli import real_demo

        raise typer.Exit(
            real_demo(router, results, short=short, embedded=embedded, only=only or [], err=err)
        )
    from rich.console import Console

    from sentra_ml.demo import run_demo
    from sentra_ml.settings import get_settings

    audit = get_settings().data_dir / "demo-audit.jsonl"
    out = Console()
    finals = run_demo(out, audit, seconds_per_tick=0.0 if fast else 0.08)
    for v in finals:
        out.print(
            f"final: {v.action} at t={v.ts:g} s, canary weight {v.weight:g} %", highlight=False
        )
    out.print(f"audit trail: {audit}", highlight=False)


SERVE_ENVIRONMENT = """Environment (defaults need no server):

\b
  SENTRA_DATA_DIR        folder of the embedded database, learners (default .sentra)
  SENTRA_DATABASE_URL    e.g. mysql+pymysql://user:pw@db/sentra (default SQLite)
  SENTRA_REDIS_URL       e.g. redis://127.0.0.1:6379/0 (default in-process bus)
  SENTRA_AUTH_DISABLED   true: every caller is an anonymous admin (local use only)
  SENTRA_WEBHOOK_SECRET  HMAC key integration callers may sign bodies with
  SENTRA_EVALUATION_INTERVAL_SECONDS  1-5 (default 2)
  SENTRA_LEASE_SECONDS   a dead controller's rollouts move after it (default 10)
  SENTRA_SERVICE_LEARNER false: judge without each service's learned normal
  SENTRA_MAX_BODY_BYTES  request body limit (default 8 MiB)
"""


class LogLevel(StrEnum):
    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"


@app.command(epilog=SERVE_ENVIRONMENT)
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes (needs Redis if > 1).", min=1)] = 1,
    no_controller: Annotated[
        bool, typer.Option("--no-controller", help="API only: `sentra controller`s judge.")
    ] = False,
    log_level: Annotated[
        LogLevel, typer.Option(help="The server's log level (info shows start-up).")
    ] = LogLevel.warning,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request (method, path, status).")
    ] = False,
) -> None:
    """Run the verdict service: the API, and a controller in-process unless --no-controller."""
    import uvicorn

    from sentra_ml.settings import get_settings

    settings = get_settings()
    if workers > 1 and not settings.redis_url:
        raise fail("--workers: more than one worker needs SENTRA_REDIS_URL (a shared bus)")
    if no_controller and not settings.redis_url:
        raise fail("--no-controller: separate controllers need SENTRA_REDIS_URL (a shared bus)")
    where = "none in-process (run `sentra controller`)" if no_controller else "in-process"
    auth = (
        "OFF (SENTRA_AUTH_DISABLED=true: every caller is an anonymous admin)"
        if settings.auth_disabled
        else "on (bearer tokens: `sentra token create --name NAME --role operator`)"
    )
    bus = "redis " + _redacted(settings.redis_url) if settings.redis_url else "in-process"
    err.print(
        f"sentra: listening on http://{host}:{port}; controller: {where}\n"
        f"  database: {token_cli.database_label(settings)}\n"
        f"  bus: {bus}\n"
        f"  auth: {auth}\n"
        f"  log level: {log_level.value}; access log: {'on' if access_log else 'off'}",
        highlight=False,
        soft_wrap=True,  # whole lines: they name paths and URLs
    )
    uvicorn.run(
        "sentra_ml.api.main:build" if no_controller else "sentra_ml.compose:app_with_controller",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=_log_config(log_level.value, access_log),
        log_level=None,  # the levels are in the config: the access log is INFO at any level
        access_log=access_log,
        ws="websockets-sansio",
    )


def _log_config(level: str, access_log: bool) -> dict[str, object]:
    """uvicorn's own logging, at `level`; its access log (INFO records) on when asked for,
    whatever the level, so that `--access-log` alone shows the requests."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    loggers = config["loggers"]
    for name in ("uvicorn", "uvicorn.error"):
        loggers.setdefault(name, {})["level"] = level.upper()
    loggers["uvicorn.access"]["level"] = "INFO" if access_log else "WARNING"
    return config


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def controller(
    interval: Annotated[
        float, typer.Option(help="Seconds between a rollout's ticks (1-5).", min=1.0, max=5.0)
    ] = 2.0,
    lease_seconds: Annotated[
        float, typer.Option(help="Lease time: a dead replica's rollouts move after it.", min=1.0)
    ] = 10.0,
    metrics_port: Annotated[
        int, typer.Option(help="Port of /metrics (0: none).", min=0, max=65535)
    ] = 9108,
    metrics_host: Annotated[
        str, typer.Option(help="Address of /metrics (0.0.0.0 in a container).")
    ] = "127.0.0.1",
) -> None:
    """Judge rollouts and shift their traffic; replicas share them through Redis leases."""
    import logging
    import signal
    import threading

    from prometheus_client import start_http_server
    from sentra_controller.metrics import ControllerMetrics
    from sentra_controller.scheduler import Scheduler

    from sentra_ml.compose import standalone_controller
    from sentra_ml.settings import get_settings

    settings = get_settings().model_copy(
        update={"evaluation_interval_seconds": interval, "lease_seconds": lease_seconds}
    )
    if not settings.redis_url:
        raise fail("SENTRA_REDIS_URL: a controller of its own shares the API's bus (Redis)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    metrics = ControllerMetrics()
    if metrics_port:
        start_http_server(metrics_port, addr=metrics_host, registry=metrics.registry)
    scheduler = Scheduler(standalone_controller(settings, metrics))
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    scheduler.start()
    err.print(
        f"sentra controller {scheduler.controller.replica[:8]}: interval {interval:g} s, "
        f"lease {lease_seconds:g} s" + (f", metrics on :{metrics_port}" if metrics_port else ""),
        highlight=False,
    )
    stopped.wait()
    scheduler.stop()  # hands the leases back: another replica takes over at once


app.add_typer(token_cli.app, name="token")


@app.command()
def version() -> None:
    """Print Sentra's version."""
    from importlib.metadata import version as dist_version

    typer.echo(dist_version("sentra-ml"))


if __name__ == "__main__":
    app()
