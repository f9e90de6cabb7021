"""`sentra train` learns the step policy from the audit database and publishes it with the
learner: in the bundle's card, and in the MLflow run's metrics and parameters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_history import write_history
from history_files import healthy, write_csv
from sentra_training.registry import list_versions
from typer.testing import CliRunner

from sentra_ml.cli import app
from sentra_ml.settings import get_settings
from sentra_ml.store.model_bundle import read_bundle


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SENTRA_DATA_DIR", str(tmp_path / ".sentra"))
    monkeypatch.delenv("SENTRA_MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("SENTRA_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path / ".sentra"
    get_settings.cache_clear()


def train(history: Path, *extra: str) -> tuple[int, str, str]:
    args = ["train", "--service", "checkout", "--source", "file", "--path", str(history)]
    flags = ["--no-progress", "--policy-runs", "1", "--target-false-alarm-rate", "0.01"]
    result = CliRunner().invoke(app, [*args, *flags, *extra])
    return result.exit_code, result.stdout, result.stderr


def test_the_policy_goes_into_the_card_and_the_mlflow_run(tmp_path: Path, data_dir: Path) -> None:
    history = write_csv(tmp_path / "h.csv", healthy(1200))
    audit = write_history(tmp_path / "audit.db", "checkout", promoted=3, total_rps=2000.0)
    code, stdout, stderr = train(history, "--database-url", audit, "--out", str(tmp_path / "m"))
    assert code == 0, stderr
    assert "Step policy of checkout" in stdout and "3 (3 promoted)" in stdout
    policy = read_bundle(tmp_path / "m").card["policy"]
    assert policy["steps"][-1] == 100.0 and policy["min_step_seconds"] > 0
    assert policy["learned_from"]["canary_rps"]["1"] == pytest.approx(20.0)
    assert read_bundle(tmp_path / "m").step_policy() == {
        "steps": policy["steps"],
        "min_step_seconds": policy["min_step_seconds"],
    }
    [version] = list_versions(get_settings().resolved_mlflow_uri(), "checkout")
    assert version.metrics["policy.total_rps"] == pytest.approx(2000.0)
    assert version.params["policy.steps"] == "/".join(f"{w:g}" for w in policy["steps"])


def test_too_little_history_leaves_the_defaults_with_a_warning(tmp_path: Path) -> None:
    history = write_csv(tmp_path / "h.csv", healthy(1200))
    audit = write_history(tmp_path / "audit.db", "checkout", promoted=1)
    out = tmp_path / "m"
    code, _, stderr = train(history, "--no-mlflow", "--database-url", audit, "--out", str(out))
    assert code == 0, stderr
    assert "no step policy learned" in stderr and "1 promoted rollouts" in stderr
    assert "policy" not in read_bundle(out).card and read_bundle(out).step_policy() is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a database URL"),
        ("sqlite:////nonexistent/audit.db", "no audit database at /nonexistent/audit.db"),
    ],
)
def test_a_named_database_that_cannot_be_read_is_an_error(
    tmp_path: Path, url: str, message: str
) -> None:
    history = write_csv(tmp_path / "h.csv", healthy(1200))
    code, _, stderr = train(history, "--no-mlflow", "--database-url", url)
    assert code != 0
    assert "--database-url" in stderr and message in stderr


def test_without_past_rollouts_training_still_works(tmp_path: Path, data_dir: Path) -> None:
    history = write_csv(tmp_path / "h.csv", healthy(1200))
    code, _, stderr = train(history, "--no-mlflow", "--out", str(tmp_path / "m"))
    assert code == 0, stderr
    assert "no audit database" in stderr
    assert not any(data_dir.glob("*.db"))  # looking for it created nothing
