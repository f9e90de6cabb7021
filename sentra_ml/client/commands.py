"""`sentra rollouts ...`: each command reads its arguments, calls the service, and shows the
answer as text for people or JSON for scripts. Errors become a message and an exit code."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from sentra_ml.client.errors import ClientError, ExitCode

if TYPE_CHECKING:
    from sentra_ml.client.http import SentraClient

rollouts_app = typer.Typer(
    help="Create, follow and act on the rollouts of a running service (SENTRA_URL, SENTRA_TOKEN).",
    no_args_is_help=True,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _stdout() -> Console:
    """Standard output; a pipe or a log gets whole ids and reasons, not an 80-column guess."""
    console = Console(highlight=False)
    if console.is_terminal or "COLUMNS" in os.environ:
        return console
    return Console(highlight=False, width=200)


class Output(StrEnum):
    TEXT = "text"
    JSON = "json"


Url = Annotated[str, typer.Option("--url", envvar="SENTRA_URL", help="The service's address.")]
Token = Annotated[
    str | None,
    typer.Option("--token", envvar="SENTRA_TOKEN", show_default=False,
                 help="API token (`sentra token create`); better set SENTRA_TOKEN."),
]  # fmt: skip
Format = Annotated[
    Output, typer.Option("--output", "-o", help="text for people, json for scripts.")
]
RolloutId = Annotated[str, typer.Argument(help="The rollout's id (`sentra rollouts list`).")]
Reason = Annotated[str, typer.Option(help="Why, for the audit trail.")]
DEFAULT_URL = "http://127.0.0.1:8080"


@contextlib.contextmanager
def _client(url: str, token: str | None) -> Iterator[SentraClient]:
    """A client of the service; a `ClientError` inside becomes its message and exit code."""
    from sentra_ml.client.http import SentraClient

    try:
        with SentraClient(url, token) as client:
            yield client
    except ClientError as e:
        err.print(f"[bold red]error:[/] {e.message}")
        raise typer.Exit(e.code) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def _json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2))


@rollouts_app.command()
def create(
    filename: Annotated[
        Path, typer.Option("--filename", "-f", help="The rollout, YAML or JSON ('-' = stdin).")
    ],
    url: Url = DEFAULT_URL,
    token: Token = None,
    output: Format = Output.TEXT,
) -> None:
    """Start judging a rollout: the file holds the body of `POST /v1/rollouts`."""
    body = _read_body(filename)
    with _client(url, token) as client:
        rollout = client.create(body)
    if output is Output.JSON:
        return _json(rollout)
    _stdout().print(
        f"rollout {rollout['id']} created: {rollout['service']} "
        f"{rollout['baseline_version']} → {rollout['canary_version']}, "
        f"{rollout['state']} at {rollout['weight']:g} %"
    )


def _read_body(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text()
    except OSError as e:
        err.print(f"[bold red]error:[/] --filename: cannot read {path} ({e.strerror})")
        raise typer.Exit(ExitCode.USAGE) from None
    try:
        body = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        at = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
        problem = getattr(e, "problem", None) or str(e)
        err.print(f"[bold red]error:[/] {path}{at}: not YAML or JSON: {problem}")
        raise typer.Exit(ExitCode.USAGE) from None
    if not isinstance(body, dict):
        err.print(f"[bold red]error:[/] {path}: must hold one object (service, metrics, ...)")
        raise typer.Exit(ExitCode.USAGE)
    return body


@rollouts_app.command("list")
def list_(
    service: Annotated[str | None, typer.Option(help="Only this service's rollouts.")] = None,
    state: Annotated[str | None, typer.Option(help="Only rollouts in this state.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.", min=1, max=500)] = 50,
    url: Url = DEFAULT_URL,
    token: Token = None,
    output: Format = Output.TEXT,
) -> None:
    """Rollouts, newest first."""
    from sentra_ml.client.view import list_table

    with _client(url, token) as client:
        page = client.list(service=service, state=state, limit=limit)
    if output is Output.JSON:
        return _json(page)
    if not page["items"]:
        _stdout().print("no rollouts" + (" match" if service or state else ""))
        return
    _stdout().print(list_table(page))
    if page["total"] > len(page["items"]):
        _stdout().print(f"{len(page['items'])} of {page['total']} shown (--limit)", style="dim")


@rollouts_app.command()
def get(
    rollout_id: RolloutId,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Follow it live until it ends.")
    ] = False,
    url: Url = DEFAULT_URL,
    token: Token = None,
    output: Format = Output.TEXT,
) -> None:
    """A rollout: state, weight, each metric's status and effect, the latest reasons."""
    from sentra_ml.client.stream import follow, snapshot
    from sentra_ml.client.view import RolloutView

    with _client(url, token) as client:
        if not watch:
            now = snapshot(client, rollout_id)
            if output is Output.JSON:
                return _json({k: v for k, v in now.items() if k != "type"})
            return _stdout().print(RolloutView.of(now).render())
        messages = follow(client, rollout_id, tick_seconds=1.0)
        if output is Output.JSON:
            for message in messages:
                if message["type"] != "tick":
                    typer.echo(json.dumps(message))
        elif _stdout().is_terminal:
            _live(messages)
        else:
            view = RolloutView({})
            for message in messages:
                line = view.apply(message)
                if line is not None:
                    _stdout().print(line, soft_wrap=True)


def _live(messages: Iterator[dict[str, Any]]) -> None:
    """The panel, redrawn on each message and each second, left on screen at the end."""
    from rich.live import Live

    from sentra_ml.client.view import RolloutView

    view = RolloutView.of(next(messages))
    with Live(view.render(), console=_stdout(), auto_refresh=False) as live:
        for message in messages:
            view.apply(message)
            live.update(view.render(), refresh=True)


def _act(
    action: str, rollout_id: str, reason: str, url: str, token: str | None, output: Output
) -> None:
    with _client(url, token) as client:
        before = client.get(rollout_id)["state"]
        rollout = client.act(rollout_id, action, reason)
    if output is Output.JSON:
        return _json(rollout)
    _stdout().print(f"rollout {rollout_id}: {before} → {rollout['state']} ({action}: {reason})")


_ACTIONS = {
    "pause": "Hold the canary's weight (verdicts go on; a rollback still happens).",
    "resume": "Let a paused rollout step on.",
    "promote": "Send all traffic to the canary now, whatever the judge says.",
    "abort": "Send all traffic back to the baseline and end the rollout.",
}


def _action_command(action: str) -> Callable[..., None]:
    def command(
        rollout_id: RolloutId, reason: Reason, url: Url = DEFAULT_URL, token: Token = None,
        output: Format = Output.TEXT,
    ) -> None:  # fmt: skip
        _act(action, rollout_id, reason, url, token, output)

    command.__doc__ = _ACTIONS[action]
    return command


for _action in _ACTIONS:
    rollouts_app.command(_action)(_action_command(_action))


@rollouts_app.command()
def wait(
    rollout_id: RolloutId,
    timeout: Annotated[
        float | None, typer.Option(help="Give up after this many seconds (exit 124).", min=0)
    ] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    output: Format = Output.TEXT,
) -> None:
    """Block until the rollout ends: exit 0 if promoted, 1 if rolled back, aborted or failed.

    Each change is logged to stderr as it happens; the end goes to stdout."""
    from sentra_ml.client.stream import follow
    from sentra_ml.client.view import RolloutView

    deadline = None if timeout is None else time.monotonic() + timeout
    view = RolloutView({})
    with _client(url, token) as client:
        for message in follow(client, rollout_id, deadline=deadline):
            line = view.apply(message)
            if line is not None:
                err.print(line, soft_wrap=True)
            if message["type"] == "deadline":
                err.print(f"[bold red]timeout:[/] still {view.state} after {timeout:g} s")
                raise typer.Exit(ExitCode.TIMED_OUT)
            if view.state == "failed":
                break  # the rollback is decided; its router keeps refusing it, maybe for ever
        final = client.get(rollout_id)
    if output is Output.JSON:
        _json(final)
    else:
        _stdout().print(f"rollout {rollout_id}: {final['state']} at {final['weight']:g} %")
    raise typer.Exit(ExitCode.OK if final["state"] == "promoted" else ExitCode.ENDED_BADLY)
