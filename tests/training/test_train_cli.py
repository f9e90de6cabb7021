"""`sentra train` and `sentra models` on the embedded MLflow store (SQLite under the data dir)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from history_files import healthy, write_csv, write_jsonl
from typer.testing import CliRunner

from sentra_ml.cli import app
from sentra_ml.settings import get_settings
from sentra_ml.store.model_bundle import read_bundle

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SENTRA_DATA_DIR", str(tmp_path / ".sentra"))
    monkeypatch.delenv("SENTRA_MLFLOW_TRACKING_URI", raising=False)
    get_settings.cache_clear()
    yield tmp_path / ".sentra"
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def train(path: Path, *extra: str) -> tuple[int, str, str]:
    return run(
        "train",
        "--service",
        "checkout",
        "--source",
        "file",
        "--path",
        str(path),
        "--no-progress",
        *extra,
    )


def test_training_is_deterministic_calibrated_and_read_back(tmp_path: Path) -> None:
    history = write_csv(tmp_path / "h.csv", healthy())
    bundles = [tmp_path / "a", tmp_path / "b"]
    for out in bundles:
        code, stdout, stderr = train(
            history,
            "--no-mlflow",
            "--out",
            str(out),
            "--seed",
            "7",
            "--target-false-alarm-rate",
            "0.002",
        )
        assert code == 0, stderr
        assert "calibrated alarm rate" in stdout and "4000" in stdout
    first, second = (read_bundle(b) for b in bundles)
    assert first.checkpoint == second.checkpoint  # the same history and seed: the same model
    metrics = first.card["metrics"]
    assert metrics["false_alarm_rate_calibration"] <= 0.002  # the target, on the history
    assert first.card["config"]["alarm_rate"] == metrics["alarm_rate"]
    assert first.card["features"] == ["errors.ratio", "latency.p99.log"]
    learner = first.learner()
    assert learner.config.alarm_rate == metrics["alarm_rate"] and learner.n == 4000
    spike = learner.update(
        {"errors.ratio": 0.2, "latency.p99.log": 5.3}, ts=1_700_000_000 + 4000 * 300
    )
    assert spike.flag  # the warm model flags at once what the history never showed


def test_json_lines_and_csv_train_the_same_model(tmp_path: Path) -> None:
    rows = healthy(1500)
    models = []
    for path in (write_csv(tmp_path / "h.csv", rows), write_jsonl(tmp_path / "h.jsonl", rows)):
        out = tmp_path / path.suffix[1:]
        code, _, stderr = train(
            path, "--no-mlflow", "--out", str(out), "--target-false-alarm-rate", "0.01"
        )
        assert code == 0, stderr
        models.append(read_bundle(out).learner())
    probe = {"errors.ratio": 0.011, "latency.p99.log": 5.4}
    assert models[0].detect(probe, 1_700_000_000.0).p_value == pytest.approx(
        models[1].detect(probe, 1_700_000_000.0).p_value, rel=1e-6
    )


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("timestamp,x\n1,2\n", ["--no-mlflow"], "needs at least"),
        ("timestamp,x\n1,abc\n", ["--no-mlflow"], "line 2, column 'x'"),
        ('{"timestamp": 1, "x": "high"}\n', ["--no-mlflow"], "field 'x'"),
        ("timestamp,x\n1,2\n", ["--target-false-alarm-rate", "2"], "--target-false-alarm-rate"),
    ],
)
def test_bad_history_is_refused_with_the_reason(
    tmp_path: Path, content: str, args: list[str], message: str
) -> None:
    path = tmp_path / ("h.jsonl" if content.startswith("{") else "h.csv")
    path.write_text(content)
    code, _, stderr = train(path, *args)
    assert code == 2 and message in stderr and "Traceback" not in stderr


def test_bad_arguments_are_refused() -> None:
    code, _, stderr = run("train", "--service", "Bad Name", "--source", "file", "--path", "x.csv")
    assert code == 2 and "--service" in stderr
    code, _, stderr = run("train", "--service", "checkout", "--source", "file")
    assert code == 2 and "--path: required" in stderr
    code, _, stderr = run("train", "--service", "checkout", "--source", "prometheus")
    assert code == 2 and "--url: required" in stderr


def test_runs_register_versions_that_are_promoted_and_compared(
    tmp_path: Path, data_dir: Path
) -> None:
    history = write_csv(tmp_path / "h.csv", healthy(2500))
    for rate in ("0.005", "0.01"):
        code, stdout, stderr = train(history, "--target-false-alarm-rate", rate)
        assert code == 0, stderr
    assert "sentra-checkout version 2" in stdout
    assert (data_dir / "mlflow.db").is_file() and (data_dir / "mlartifacts").is_dir()

    code, stdout, _ = run("models", "promote", "checkout", "--version", "2")
    assert code == 0 and "@production -> version 2" in stdout
    code, stdout, _ = run("models", "promote", "checkout", "--version", "1")
    assert code == 0 and "-> version 1 (was version 2)" in stdout  # a model rollback
    code, stdout, _ = run("models", "list", "checkout")
    assert code == 0 and "production" in stdout and "2500" in stdout

    plot = tmp_path / "compare.png"
    code, stdout, stderr = run("models", "compare", "checkout", "1", "2", "--plot", str(plot))
    assert code == 0, stderr
    assert "false_alarm_rate_holdout" in stdout and "0.005" in stdout and "0.01" in stdout
    assert plot.read_bytes().startswith(b"\x89PNG")

    from sentra_ml.store.model_registry import download, published

    target = published(get_settings().resolved_mlflow_uri(), "checkout")
    assert target is not None and target.version == "1"
    model = download(get_settings().resolved_mlflow_uri(), target)
    assert model.version == "sentra-checkout/1" and model.card["training"]["target"] == 0.005


def test_models_commands_name_what_is_missing(data_dir: Path) -> None:
    code, _, stderr = run("models", "list", "checkout")
    assert code == 2 and "no registered version" in stderr
    code, _, stderr = run("models", "compare", "checkout", "1", "2")
    assert code == 2 and "no registered version" in stderr
