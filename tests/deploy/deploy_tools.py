"""The programs the deployment tests run (no engine, no cluster) and the `sentra` command check."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer

from sentra_ml.cli import app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
CONFIGS = ROOT / "deploy" / "compose"
SECRETS = {"SENTRA_DB_PASSWORD": "db-pw", "MYSQL_ROOT_PASSWORD": "root-pw"}
SENTRA_IMAGE = "sentra:local"
ONE_SHOT = {"probe-tools"}  # copies a file and exits; dependents wait for its success


def tool(name: str) -> str:
    """A program from the venv (the dev extras: docker-compose, kubectl, check-jsonschema) or
    the system (nginx, promtool); skipped when missing, but a failure under CI=true."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None and Path(f"/usr/sbin/{name}").exists():
        found = f"/usr/sbin/{name}"
    if found:
        return found
    reason = f"{name} is not installed (make install, or .ci/run's apt packages)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def run(argv: Sequence[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`argv` in the repository root, its output kept."""
    return subprocess.run(
        list(argv), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def sentra_command_error(args: Sequence[str]) -> str | None:
    """Why `sentra *args` would be refused (unknown command or option, a bad value), or None.
    The arguments are parsed and converted as the CLI would, without running the command."""
    group = typer.main.get_command(app)
    name, *rest = args
    command = group.get_command(typer.Context(group), name)  # type: ignore[attr-defined]
    if command is None:
        return f"no `sentra {name}` command"
    try:
        with command.make_context(f"sentra {name}", list(rest)):
            pass
    except Exception as e:  # typer's vendored click raises its own UsageError kinds
        format_message = getattr(e, "format_message", None)
        return format_message() if format_message else f"{type(e).__name__}: {e}"
    return None


def compose_env(**extra: str) -> dict[str, str]:
    """This environment without the variables compose.yaml reads, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in SECRETS and k != "SENTRA_IMAGE"}
    return {**env, **extra}


@cache
def model() -> dict[str, Any]:
    """The file as Compose resolves it: anchors merged, variables interpolated, paths absolute."""
    done = run(
        [tool("docker-compose"), "--project-directory", str(ROOT), "-f", str(COMPOSE),
         "config", "--format", "json"],
        env=compose_env(**SECRETS),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    resolved: dict[str, Any] = json.loads(done.stdout)
    return resolved


def services() -> dict[str, dict[str, Any]]:
    """compose.yaml's services, resolved."""
    found: dict[str, dict[str, Any]] = model()["services"]
    return found
