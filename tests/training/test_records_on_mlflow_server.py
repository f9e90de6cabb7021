"""Evaluations and rollout links recorded through a real `mlflow server` (artifacts served by
the server over HTTP, backend store in SQLite: the MariaDB backend, whose schema migration takes
~40 s, is covered by tests/api/test_api_published_models.py), read back by `sentra models`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from history_files import START, healthy, with_incidents, write_csv, write_nab_corpus
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
from mlflow_server import MlflowServer  # type: ignore[import-not-found]

from sentra_ml.cli import app
from sentra_ml.settings import get_settings
from sentra_ml.store import audit
from sentra_ml.store.db import make_engine, session_factory, upgrade
from sentra_ml.store.model_registry import registry_client


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    folder = tmp_path_factory.mktemp("mlflow")
    server = MlflowServer(f"sqlite:///{folder / 'mlflow.db'}", folder / "artifacts")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_the_server_holds_evaluations_and_rollouts_that_sentra_reads_back(
    mlflow_server: MlflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTRA_MLFLOW_TRACKING_URI", mlflow_server.url)
    monkeypatch.setenv("SENTRA_DATA_DIR", str(tmp_path / ".sentra"))
    monkeypatch.delenv("SENTRA_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        engine = make_engine(get_settings().resolved_database_url())
        upgrade(engine)
        with session_factory(engine).begin() as session:
            covered = audit.create_rollout(
                session=session, service="checkout", namespace="shop", baseline_version="v1",
                canary_version="v2", spec={}, weight=1.0, target=None, source=None,
                actor="test", now=START + 600,
            ).id  # fmt: skip
        engine.dispose()
        rows, windows = with_incidents()
        labels = tmp_path / "w.json"
        labels.write_text(json.dumps({"incidents.csv": windows}))
        incidents = write_csv(tmp_path / "incidents.csv", rows)
        code, out, err = run(
            "train", "--service", "checkout", "--source", "file",
            "--path", str(write_csv(tmp_path / "h.csv", healthy(1500))),
            "--target-false-alarm-rate", "0.01", "--no-progress",
            "--eval-history", str(incidents), "--labels", str(labels),
        )  # fmt: skip
        assert code == 0, err
        code, _, err = run("evaluate", "--service", "checkout", "--version", "1", "--no-progress",
                           "--nab", str(write_nab_corpus(tmp_path / "nab")),
                           "--plots", str(tmp_path / "plots"))  # fmt: skip
        assert code == 0, err

        client = registry_client(mlflow_server.url)
        run_id = client.get_model_version("sentra-checkout", "1").run_id
        assert run_id is not None
        metrics = client.get_run(run_id).data.metrics
        assert metrics["eval.history.windows"] == 2 and metrics["eval.nab.windows"] == 1
        artifacts = {a.path for a in client.list_artifacts(run_id, "evaluation")}
        assert {"evaluation/report.json", "evaluation/summary.png"} <= artifacts

        code, out, err = run("models", "show", "checkout", "1")
        assert code == 0, err
        assert covered in out and "1 rollouts its history covered" in out
        assert "eval.nab.standard" in out and "eval.history.standard" in out
    finally:
        get_settings.cache_clear()
