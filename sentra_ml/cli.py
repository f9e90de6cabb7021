"""The `sentra` program. Subcommands parse arguments and delegate; no logic lives here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sentra_training import offline_cli, train_cli
from sentra_training.models_cli import models_app

from sentra_ml.analysis.types.errors import SpecError
from sentra_ml.client.commands import rollouts_app

app = typer.Typer(help="Sentra: live telemetry into safe rollout decisions.", no_args_is_help=True)
err = Console(stderr=True)
app.command("score")(offline_cli.score)
app.command("evaluate")(offline_cli.evaluate)
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


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes (needs Redis if > 1).", min=1)] = 1,
    no_controller: Annotated[
        bool, typer.Option("--no-controller", help="API only: `sentra controller`s judge.")
    ] = False,
) -> None:
    """Run the verdict service (SENTRA_DATABASE_URL, SENTRA_REDIS_URL; embedded defaults)."""
    import uvicorn

    from sentra_ml.settings import get_settings

    settings = get_settings()
    if workers > 1 and not settings.redis_url:
        raise fail("--workers: more than one worker needs SENTRA_REDIS_URL (a shared bus)")
    if no_controller and not settings.redis_url:
        raise fail("--no-controller: separate controllers need SENTRA_REDIS_URL (a shared bus)")
    where = "none in-process (run `sentra controller`)" if no_controller else "in-process"
    err.print(
        f"sentra: listening on http://{host}:{port}; controller: {where}; "
        f"database: {_redacted(settings.resolved_database_url())}; "
        f"bus: {'redis' if settings.redis_url else 'in-process'}",
        highlight=False,
    )
    uvicorn.run(
        "sentra_ml.api.main:build" if no_controller else "sentra_ml.compose:app_with_controller",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        ws="websockets-sansio",
    )


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


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


token_app = typer.Typer(help="API tokens (stored hashed; the secret is shown once).")
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="A name for the audit, e.g. 'ci'.")],
    role: Annotated[str, typer.Option(help="viewer, operator or admin.")] = "viewer",
) -> None:
    """Create a token in the configured database and print its secret."""
    from sqlalchemy.exc import SQLAlchemyError

    from sentra_ml.settings import get_settings
    from sentra_ml.store import tokens
    from sentra_ml.store.db import make_engine, session_factory, upgrade

    try:
        chosen = tokens.Role(role)
    except ValueError:
        raise fail(f"--role: '{role}' is not one of viewer, operator, admin") from None
    try:
        engine = make_engine(get_settings().resolved_database_url())
        upgrade(engine)
        with session_factory(engine)() as session:
            if tokens.name_taken(session=session, name=name):
                raise fail(f"--name: a token named '{name}' exists")
            _, secret = tokens.create_token(session=session, name=name, role=chosen, actor="cli")
            session.commit()
    except SQLAlchemyError as e:
        raise fail(f"database: {e.__class__.__name__}: {str(e).splitlines()[0]}") from None
    typer.echo(secret)


@app.command()
def version() -> None:
    """Print Sentra's version."""
    from importlib.metadata import version as dist_version

    typer.echo(dist_version("sentra-ml"))


if __name__ == "__main__":
    app()
