"""`sentra token create | list | revoke` as a user runs them, beside a real `sentra serve`: each
names its database, resolved as the service resolves it, and a revoked token stops working."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cli_service import free_port, wait_healthy  # type: ignore[import-not-found]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRA_")}
    return {**env, **extra}


def _sentra(cwd: Path, env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sentra_ml.cli", *argv],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_token_create_names_its_database_and_warns_when_it_is_new(tmp_path: Path) -> None:
    env = _env(SENTRA_DATA_DIR="state")
    first = _sentra(tmp_path, env, "token", "create", "--name", "ci", "--role", "operator")
    database = f"sqlite:///{tmp_path / 'state' / 'sentra.db'}"
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("sentra_") and first.stdout.count("\n") == 1
    assert f"token 1 'ci' (operator) stored in {database}" in first.stderr
    assert "that database is new" in first.stderr
    second = _sentra(tmp_path, env, "token", "create", "--name", "ci-2")
    assert second.returncode == 0 and "database is new" not in second.stderr
    taken = _sentra(tmp_path, env, "token", "create", "--name", "ci")
    assert taken.returncode == 2
    assert f"--name: a token named 'ci' exists in {database}" in taken.stderr
    bad = _sentra(tmp_path, env, "token", "create", "--name", "x", "--role", "root")
    assert bad.returncode == 2 and "--role" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.timeout(120)
def test_a_token_made_in_the_service_folder_works_and_revoked_stops(tmp_path: Path) -> None:
    env = _env(SENTRA_DATA_DIR="state")
    made = _sentra(tmp_path, env, "token", "create", "--name", "ci", "--role", "operator")
    secret = made.stdout.strip()
    port = free_port()
    argv = [sys.executable, "-m", "sentra_ml.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        banner = [proc.stderr.readline() for _ in range(5)]
        assert banner[1].strip() == f"database: sqlite:///{tmp_path / 'state' / 'sentra.db'}"
        assert banner[2].strip() == "bus: in-process"
        assert banner[3].strip().startswith("auth: on")
        assert banner[4].strip() == "log level: warning; access log: off"
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {secret}"}
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(f"{base}/v1/rollouts", headers=headers, timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the service did not come up"
                time.sleep(0.2)
        assert answer.status_code == 200
        listed = _sentra(tmp_path, env, "token", "list")
        assert listed.stdout.split()[:3] == ["1", "ci", "operator"]
        revoked = _sentra(tmp_path, env, "token", "revoke", "ci")
        assert revoked.returncode == 0 and "revoked token 1 'ci'" in revoked.stderr
        assert _sentra(tmp_path, env, "token", "list").stdout == ""
        assert "revoked 20" in _sentra(tmp_path, env, "token", "list", "--all").stdout
        deadline = time.monotonic() + 15  # the service's token cache lives 10 s
        while httpx.get(f"{base}/v1/rollouts", headers=headers, timeout=5).status_code != 401:
            assert time.monotonic() < deadline, "the revoked token still works"
            time.sleep(0.5)
        unknown = _sentra(tmp_path, env, "token", "revoke", "nobody")
        assert unknown.returncode == 2 and "no token with id or name 'nobody'" in unknown.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_says_when_auth_is_off_and_names_its_environment(tmp_path: Path) -> None:
    help_text = _sentra(tmp_path, _env(), "serve", "--help").stdout
    for name in ("SENTRA_DATA_DIR", "SENTRA_DATABASE_URL", "SENTRA_REDIS_URL"):
        assert name in help_text
    assert "--log-level" in help_text and "--access-log" in help_text
    env = _env(SENTRA_DATA_DIR=str(tmp_path), SENTRA_AUTH_DISABLED="true")
    argv = [sys.executable, "-m", "sentra_ml.cli", "serve", "--port", str(free_port())]
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        banner = [proc.stderr.readline() for _ in range(4)]
        assert banner[3].strip().startswith("auth: OFF (SENTRA_AUTH_DISABLED=true")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_no_help_text_shows_a_bool_metavar(tmp_path: Path) -> None:
    commands = [[], ["demo"], ["replay"], ["serve"], ["controller"], ["score"], ["evaluate"]]
    commands += [["token"], ["token", "create"], ["token", "list"], ["token", "revoke"]]
    for argv in commands:
        shown = _sentra(tmp_path, _env(), *argv, "--help")
        assert shown.returncode == 0 and "<bool>" not in shown.stdout, argv


def test_help_loads_no_heavy_library(tmp_path: Path) -> None:
    """`sentra --help` stays quick: numpy, SQLAlchemy, Alembic, FastAPI load only in commands."""
    probe = (
        "import sys; from sentra_ml.cli import app; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'numpy', 'sqlalchemy', 'alembic', 'fastapi', 'pandas', 'uvicorn', 'river'}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], env=_env(), capture_output=True, text=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]", loaded.stderr


@pytest.mark.timeout(90)
@pytest.mark.parametrize(
    ("flags", "shown", "hidden"),
    [
        ([], [], ["GET /healthz", "Application startup complete"]),
        (["--access-log"], ["GET /healthz"], ["Application startup complete"]),
        (["--log-level", "info"], ["Application startup complete"], ["GET /healthz"]),
    ],
)
def test_log_level_and_access_log(
    tmp_path: Path, flags: list[str], shown: list[str], hidden: list[str]
) -> None:
    port = free_port()
    env = _env(SENTRA_DATA_DIR=str(tmp_path))
    argv = [sys.executable, "-m", "sentra_ml.cli", "serve", "--port", str(port), *flags]
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stderr=sink, stdout=sink)
        try:
            wait_healthy(port)
            time.sleep(0.5)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    text = log.read_text()
    assert all(s in text for s in shown), text
    assert not any(s in text for s in hidden), text
