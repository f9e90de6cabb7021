"""The image's file list and entry point, built as its builder stage builds them: the wheel
(`pip wheel --no-deps --no-build-isolation`) installed with requirements.lock and no dev extras
into a fresh virtualenv, then `sentra --help` and `sentra serve` run from it.

The install uses uv rather than pip (same wheel, same constraints): from uv's cache it takes
about a second where pip takes a minute. The first run on a machine fills that cache from PyPI.
Deselect with `-m "not install"`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from packaging.utils import canonicalize_name
from uv import find_uv_bin

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("sentra_ml", "sentra_controller", "sentra_adapters", "sentra_training")
MIGRATIONS = ROOT / "sentra_ml" / "store" / "migrations"

pytestmark = pytest.mark.install

# run by the fresh venv's python: what is installed, and what sentra-ml needs without extras
_CLOSURE = """
import importlib.metadata as md, json
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name as c
installed = {c(d.metadata["Name"]) for d in md.distributions()}
need, seen, todo = set(), set(), [("sentra-ml", "")]
while todo:
    name, extra = todo.pop()
    if (name, extra) in seen:
        continue
    seen.add((name, extra))
    need.add(name)
    for line in md.requires(name) or []:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({"extra": extra}):
            todo += [(c(req.name), e) for e in ("", *req.extras)]
print(json.dumps({"installed": sorted(installed), "needed": sorted(need)}))
"""


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)


def _clean_env(data_dir: Path) -> dict[str, str]:
    """No PYTHONPATH (the worktree's code must not leak in) and no SENTRA_* but the data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRA_")}
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    return {**env, "SENTRA_DATA_DIR": str(data_dir)}


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """One wheel build and one install per test session."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(out), str(ROOT)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    (wheel,) = out.glob("sentra_ml-*.whl")
    venv = tmp_path_factory.mktemp("venv") / "sentra"
    uv = find_uv_bin()
    major, minor = sys.version_info[:2]
    python = str(Path(sys.base_prefix) / "bin" / f"python{major}.{minor}")  # not the dev venv
    subprocess.run([uv, "venv", "--quiet", "--python", python, str(venv)], check=True, timeout=60)
    install = [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
               "-c", str(ROOT / "requirements.lock"), str(wheel)]  # fmt: skip
    offline = subprocess.run([*install, "--offline"], capture_output=True, timeout=120)
    if offline.returncode != 0:  # a cold cache: fetch once from the index
        subprocess.run(install, check=True, capture_output=True, timeout=300)
    return Installed(wheel, venv)


def test_the_wheel_holds_the_four_packages_and_the_migrations_and_no_tests(
    installed: Installed,
) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == set(PACKAGES)
    for package in PACKAGES:
        assert f"{package}/__init__.py" in names
    wanted = {
        str(p.relative_to(ROOT)) for p in MIGRATIONS.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }  # fmt: skip
    assert wanted and wanted <= set(names), sorted(wanted - set(names))
    assert not [n for n in names if "tests/" in n or n.startswith("test") or "__pycache__" in n]


def test_the_venv_holds_exactly_the_runtime_dependencies(installed: Installed) -> None:
    report = subprocess.run(
        [installed.bin("python"), "-c", _CLOSURE], capture_output=True, text=True, check=True
    )
    seen = json.loads(report.stdout)
    installed_names, needed = set(seen["installed"]), set(seen["needed"])
    assert installed_names == needed, sorted(installed_names ^ needed)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dev = {canonicalize_name(r.split("[")[0].split(">")[0].split("=")[0].strip())
           for r in project["optional-dependencies"]["dev"]}  # fmt: skip
    assert {"pytest", "ruff", "mypy", "hypothesis"} <= dev - installed_names


def test_sentra_help_lists_the_commands_the_image_runs(
    installed: Installed, tmp_path: Path
) -> None:
    done = subprocess.run(
        [installed.bin("sentra"), "--help"], capture_output=True, text=True,
        cwd=tmp_path, env=_clean_env(tmp_path), timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for command in ("serve", "controller", "token", "version"):
        assert command in done.stdout
    where = subprocess.run(
        [installed.bin("python"), "-c", "import sentra_ml; print(sentra_ml.__file__)"],
        capture_output=True, text=True, cwd=tmp_path, env=_clean_env(tmp_path), check=True,
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(installed.venv)), where.stdout


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(installed: Installed, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = _port()
    proc = subprocess.Popen(
        [installed.bin("sentra"), "serve", "--port", str(port)],
        cwd=tmp_path, env=_clean_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}", tmp_path
    finally:
        proc.terminate()  # what `docker stop` sends
        try:
            code = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        assert proc.stderr is not None
        stderr = proc.stderr.read().decode()
        proc.stderr.close()
    # uvicorn shuts down, then re-raises the signal it caught: -SIGTERM (143 in a container)
    assert code in (0, -signal.SIGTERM) and "Traceback" not in stderr, f"exit {code}: {stderr}"


@pytest.mark.timeout(120)
def test_sentra_serve_from_the_wheel_becomes_healthy_and_ready(
    served: tuple[str, Path],
) -> None:
    base, data_dir = served
    deadline = time.monotonic() + 60
    while True:
        try:
            health = httpx.get(f"{base}/healthz", timeout=1)
            if health.status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the installed `sentra serve` did not come up"
        time.sleep(0.2)
    assert health.json() == {"status": "ok"}
    ready = httpx.get(f"{base}/readyz", timeout=5)
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"ready": True, "checks": {"database": True, "bus": True}}
    # the migrations shipped in the wheel ran: the embedded database is at the newest revision
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    with sqlite3.connect(data_dir / "sentra.db") as db:
        (version,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version == head
