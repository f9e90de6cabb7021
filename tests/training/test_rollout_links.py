"""A model version and Sentra's rollouts, linked both ways: the training run records the
rollouts its history covered, the audit database's decisions name the version they were made
with, and `sentra models show` lists both (audit database embedded or on MariaDB)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from history_files import START, healthy, write_csv
from sentra_controller.checkpoints import Checkpoints
from typer.testing import CliRunner

from sentra_ml.cli import app
from sentra_ml.settings import get_settings
from sentra_ml.store import audit
from sentra_ml.store.bus import InProcessBus
from sentra_ml.store.db import make_engine, session_factory, upgrade
from sentra_ml.store.learners import FileLearnerStore
from sentra_ml.store.model_loader import ModelLoader, PublishedLearnerStore
from sentra_ml.store.model_registry import registry_client
from sentra_ml.store.states import State

runner = CliRunner()
DAY = 86400.0


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def train(history: Path) -> tuple[int, str, str]:
    args = ["train", "--service", "checkout", "--source", "file", "--path", str(history)]
    return run(*args, "--target-false-alarm-rate", "0.01", "--no-progress")


@pytest.fixture(
    params=["embedded", pytest.param("mariadb", marks=pytest.mark.mysql)],
)
def database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The audit database (migrated) and an embedded MLflow store, both fresh."""
    monkeypatch.setenv("SENTRA_DATA_DIR", str(tmp_path / ".sentra"))
    monkeypatch.delenv("SENTRA_MLFLOW_TRACKING_URI", raising=False)
    if request.param == "mariadb":
        monkeypatch.setenv("SENTRA_DATABASE_URL", request.getfixturevalue("mysql_url"))
    else:
        monkeypatch.delenv("SENTRA_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    url = get_settings().resolved_database_url()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    get_settings.cache_clear()


def rollout(url: str, service: str, start: float, end: float, state: State) -> str:
    engine = make_engine(url)
    try:
        with session_factory(engine).begin() as session:
            r = audit.create_rollout(
                session=session, service=service, namespace="shop", baseline_version="v1",
                canary_version="v2", spec={}, weight=1.0, target=None, source=None,
                actor="test", now=start,
            )  # fmt: skip
            audit.change_state(
                session=session, rollout=r, state=state, actor="test", reason="end", now=end
            )
            return r.id
    finally:
        engine.dispose()


def decide(url: str, rollout_id: str, model_version: str) -> None:
    engine = make_engine(url)
    try:
        with session_factory(engine).begin() as session:
            r = session.get(audit.Rollout, rollout_id)
            assert r is not None
            verdict = {"ts": time.time(), "action": "continue", "risk": 0.1, "weight": 5.0,
                       "score": 0.2, "reasons": []}  # fmt: skip
            audit.record_decision(
                session=session, rollout=r, verdict=verdict, model_version=model_version
            )
    finally:
        engine.dispose()


def test_a_version_lists_the_rollouts_it_was_trained_on_and_judged(
    database: str, tmp_path: Path
) -> None:
    end = START + 1499 * 300
    covered = rollout(database, "checkout", START + 3000, START + 6000, State.PROMOTED)
    late = rollout(database, "checkout", end - 600, end + DAY, State.ROLLED_BACK)
    before = rollout(database, "checkout", START - 10 * DAY, START - 9 * DAY, State.PROMOTED)
    other = rollout(database, "search", START + 3000, START + 6000, State.PROMOTED)
    history = write_csv(tmp_path / "h.csv", healthy(1500))
    code, out, err = train(history)
    assert code == 0, err
    assert "rollouts covered" in out and "2 (1 promoted, 1 rolled_back)" in out

    uri = get_settings().resolved_mlflow_uri()
    client = registry_client(uri)
    run_id = client.get_model_version("sentra-checkout", "1").run_id
    assert run_id is not None
    data = client.get_run(run_id).data
    assert data.tags["sentra.rollouts"] == f"{covered},{late}"
    assert data.tags["sentra.rollouts.promoted"] == "1" and data.params["rollouts"] == "2"
    assert float(data.tags["sentra.history.start"]) == START
    # MLflow answers the other way too: which runs covered a rollout
    experiment = client.get_run(run_id).info.experiment_id
    found = client.search_runs([experiment], f"tags.`sentra.rollouts` LIKE '%{covered}%'")
    assert [r.info.run_id for r in found] == [run_id]

    # the judging loop's decisions name the version their learner descends from
    assert run("models", "promote", "checkout", "--version", "1")[0] == 0
    store = PublishedLearnerStore(
        FileLearnerStore(tmp_path / "learners"), ModelLoader(uri, poll_seconds=0)
    )
    store.load("checkout")
    decider = Checkpoints(InProcessBus(), store).model("checkout")
    judged = rollout(database, "checkout", time.time() - 60, time.time(), State.RUNNING)
    decide(database, judged, decider)
    decide(database, judged, decider)
    eleventh = rollout(database, "checkout", time.time() - 60, time.time(), State.RUNNING)
    decide(database, eleventh, decider.replace("checkout/1", "checkout/11"))

    code, out, err = run("models", "show", "checkout", "1")
    assert code == 0, err
    shown, judged_part = out.split("rollouts judged with it")
    assert covered in shown and late in shown and "rolled_back" in shown
    assert before not in out and other not in out and eleventh not in out
    line = next(row for row in judged_part.splitlines() if judged in row)
    assert line.rstrip(" │").endswith("2")  # its two decisions
    assert "2 rollouts its history covered" in shown


def test_an_unreadable_audit_database_is_recorded_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTRA_DATA_DIR", str(tmp_path / ".sentra"))
    monkeypatch.delenv("SENTRA_MLFLOW_TRACKING_URI", raising=False)
    # a closed port: the connection is refused at once
    monkeypatch.setenv("SENTRA_DATABASE_URL", "mysql+pymysql://root@127.0.0.1:9/none")
    get_settings.cache_clear()
    try:
        history = write_csv(tmp_path / "h.csv", healthy(1500))
        code, out, err = train(history)
        assert code == 0, err
        assert "unknown (audit database" in " ".join(out.replace("│", " ").split())
        code, out, err = run("models", "show", "checkout", "1")
        assert code == 1 and "audit database mysql+pymysql://root@127.0.0.1:9/none" in err
        assert "rollouts its history covered: unknown (audit database" in " ".join(out.split())
        code, _, err = run("models", "show", "checkout", "7")
        assert code == 2 and "no version 7" in err
    finally:
        get_settings.cache_clear()
