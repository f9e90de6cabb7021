"""Published models in the judging loop, against a real `mlflow server` on MariaDB: loaded at
`@production`, a moved alias picked up by the registry poll, and judging that carries on when the
server is gone."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import METRICS, lines, start  # type: ignore[import-not-found]
from mlflow_server import MlflowServer  # type: ignore[import-not-found]
from sentra_controller.checkpoints import Checkpoints
from typer.testing import CliRunner

from sentra_ml.cli import app as cli
from sentra_ml.settings import Settings, get_settings
from sentra_ml.store.audit import JUDGE_VERSION
from sentra_ml.store.bus import InProcessBus
from sentra_ml.store.learners import FileLearnerStore
from sentra_ml.store.model_loader import ModelLoader, PublishedLearnerStore, default_model

sys.path.insert(0, str(Path(__file__).parents[1] / "training"))
from history_files import healthy, write_csv  # type: ignore[import-not-found]

pytestmark = pytest.mark.mysql
DEFAULT_MODEL = Path(__file__).parents[2] / "models" / "default"


@pytest.fixture(scope="module")
def mlflow_server(
    mysql_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MlflowServer]:
    server = MlflowServer(mysql_url, tmp_path_factory.mktemp("mlflow") / "artifacts")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def sentra(server: MlflowServer, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setenv("SENTRA_MLFLOW_TRACKING_URI", server.url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, list(args))
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_published_models_load_follow_the_alias_and_survive_the_server(
    mlflow_server: MlflowServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    history = write_csv(tmp_path / "h.csv", healthy(1200))
    for rate in ("0.01", "0.02"):
        out = sentra(
            mlflow_server,
            monkeypatch,
            "train",
            "--service",
            "checkout",
            "--source",
            "file",
            "--path",
            str(history),
            "--target-false-alarm-rate",
            rate,
            "--no-progress",
        )
    assert "sentra-checkout version 2" in out
    sentra(mlflow_server, monkeypatch, "models", "promote", "checkout", "--version", "1")

    loader = ModelLoader(mlflow_server.url, poll_seconds=0)  # the test drives the polls
    store = PublishedLearnerStore(FileLearnerStore(tmp_path / "learners"), loader)
    first = store.load("checkout")
    model = loader.model("checkout")
    assert model is not None and model.version == "sentra-checkout/1"
    assert first == model.checkpoint and store.adopted("checkout") == "sentra-checkout/1"
    store.save("checkout", b"learned since")  # the service keeps learning from the model
    assert store.load("checkout") == b"learned since"

    sentra(mlflow_server, monkeypatch, "models", "promote", "checkout", "--version", "2")
    assert loader.model("checkout").version == "sentra-checkout/1"  # type: ignore[union-attr]
    loader.poll()  # what the timer runs: no restart
    moved = loader.model("checkout")
    assert moved is not None and moved.version == "sentra-checkout/2"
    assert store.load("checkout") == moved.checkpoint  # the new version replaces the learner
    assert moved.learner().config.alarm_rate == moved.card["metrics"]["alarm_rate"]
    # the controller's decisions name the model their learner descends from
    decider = Checkpoints(InProcessBus(), store).model("checkout")
    assert decider == f"{JUDGE_VERSION}, learner sentra-checkout/2"

    mlflow_server.stop()
    loader.poll()  # unreachable: keeps what it has
    assert loader.model("checkout") is moved
    cold = ModelLoader(mlflow_server.url, poll_seconds=0)  # never reached it: the default model
    fallback = PublishedLearnerStore(
        FileLearnerStore(tmp_path / "other"), cold, default_model(DEFAULT_MODEL)
    )
    assert fallback.load("checkout") == default_model(DEFAULT_MODEL).checkpoint  # type: ignore[union-attr]


def test_the_service_keeps_judging_when_mlflow_is_stopped(tmp_path: Path) -> None:
    """The API's one-shot verdicts with a registry that is not there at all."""
    dead = MlflowServer("sqlite://", tmp_path / "none")  # never started: its port is closed
    settings = Settings(
        data_dir=tmp_path / "sentra", mlflow_tracking_uri=dead.url, default_model_dir=DEFAULT_MODEL
    )
    for api in start(settings):
        body = {"spec": {"metrics": METRICS}, "lines": lines(1000.0, 20, 9)}
        bad = api.post("/v1/verdicts", json=body)
        assert bad.status_code == 200 and bad.json()["action"] == "rollback"
        body["lines"] = lines(1000.0, 20, 1)
        good = api.post("/v1/verdicts", json=body)
        assert good.status_code == 200 and good.json()["action"] in ("continue", "promote")
