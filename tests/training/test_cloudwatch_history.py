"""`sentra train --source cloudwatch` against moto in server mode (a real AWS endpoint over HTTP
on 127.0.0.1), with the history put in by PutMetricData."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "adapters"))
from aws_server import MotoSetup, put_points, running_moto  # type: ignore[import-not-found]
from sentra_training.cloudwatch_history import cloudwatch_history, read_metrics
from sentra_training.series import InputError

from sentra_ml.cli import app
from sentra_ml.store.model_bundle import read_bundle

STEP = 60
PERIODS = 900
SERVICE = {"FunctionName": "checkout", "Resource": "checkout:live"}
METRICS = [
    {"name": "errors", "kind": "ratio", "namespace": "AWS/Lambda",
     "total": "Invocations", "failed": "Errors"},
    {"name": "concurrency", "kind": "gauge", "namespace": "AWS/Lambda",
     "value": "ConcurrentExecutions"},
]  # fmt: skip
runner = CliRunner()


def starts(end: int) -> list[float]:
    return [float(end - (PERIODS - i) * STEP) for i in range(PERIODS)]


@pytest.fixture(scope="module")
def end() -> int:
    """The minute before which the history's periods end: taken when the data is put, not when
    the file is collected (`sentra train --since` counts back from the clock, and the whole
    suite runs for minutes)."""
    return math.floor(time.time() / STEP) * STEP


@pytest.fixture(scope="module")
def moto(end: int) -> Iterator[MotoSetup]:
    """Lambda metrics of `checkout` for 900 minutes; errors only in every third minute; another
    function's metrics beside them, which the dimensions must keep out."""
    rng = np.random.default_rng(3)
    with running_moto() as setup:
        cw = setup.client("cloudwatch")
        calls = {t + 5: float(1000 + rng.integers(0, 100)) for t in starts(end)}
        put_points(cw, "AWS/Lambda", "Invocations", SERVICE, calls)
        errors = {
            t + 20: float(rng.integers(5, 15)) for i, t in enumerate(starts(end)) if i % 3 == 0
        }
        put_points(cw, "AWS/Lambda", "Errors", SERVICE, errors)
        gauge = {t + 30: 10 + 2 * math.sin(i / 60) for i, t in enumerate(starts(end))}
        put_points(cw, "AWS/Lambda", "ConcurrentExecutions", SERVICE, gauge)
        other = {"FunctionName": "search", "Resource": "search:live"}
        put_points(cw, "AWS/Lambda", "Errors", other, dict.fromkeys(calls, 900.0))
        yield setup


@pytest.fixture
def metrics_file(tmp_path: Path) -> Path:
    path = tmp_path / "metrics.yaml"
    path.write_text(json.dumps({"metrics": METRICS}))
    return path


def test_the_history_holds_what_was_put_per_period(
    moto: MotoSetup, end: int, metrics_file: Path
) -> None:
    cw = moto.client("cloudwatch")
    history = cloudwatch_history(
        read_metrics(metrics_file), SERVICE, end - PERIODS * STEP, end, STEP, client=cw
    )
    assert list(history.columns) == ["errors.ratio", "concurrency"]
    assert len(history) == PERIODS
    np.testing.assert_array_equal(history.times, np.array(starts(end)) + STEP)  # period ends
    ratio = history.columns["errors.ratio"]
    assert ratio[1] == 0.0 and ratio[2] == 0.0  # no Errors datapoint: no failure, not missing
    assert 5 / 1100 <= ratio[0] <= 15 / 1000
    assert history.columns["concurrency"][0] == pytest.approx(10.0)


def test_train_from_cloudwatch_fits_and_names_the_features(
    moto: MotoSetup, end: int, metrics_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "model"
    dims = [f"--dimension={k}={v}" for k, v in SERVICE.items()]
    args = ["train", "--service", "checkout", "--source", "cloudwatch", "--url", moto.endpoint]
    args += ["--region", "us-east-1", "--metrics", str(metrics_file), *dims, "--since", "15h"]
    args += ["--target-false-alarm-rate", "0.01", "--no-mlflow", "--no-progress"]
    result = runner.invoke(
        app,
        [*args, "--out", str(out)],
        env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )
    assert result.exit_code == 0, result.stderr
    model = read_bundle(out)
    assert model.card["features"] == ["errors.ratio", "concurrency"]
    assert model.card["data"]["source"].startswith(f"cloudwatch {moto.endpoint}")
    assert model.card["data"]["intervals"] >= PERIODS - 2  # the clock may pass a minute
    spike = model.learner().update({"errors.ratio": 0.4, "concurrency": 10.0}, float(end))
    assert spike.flag


def test_bad_cloudwatch_input_is_refused_naming_it(
    moto: MotoSetup,
    end: int,
    metrics_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    base = ["train", "--service", "checkout", "--source", "cloudwatch", "--url", moto.endpoint]
    base += ["--region", "us-east-1", "--no-mlflow", "--no-progress", "--since", "2h"]
    cases = [
        ([], "--metrics: required"),
        (["--metrics", str(tmp_path / "none.yaml")], "no such file"),
        (["--metrics", str(metrics_file), "--dimension", "FunctionName"], "not Name=Value"),
        (["--metrics", str(metrics_file), "--step", "45"], "--step"),
        (["--metrics", str(metrics_file), "--dimension", "FunctionName=nobody"], "no datapoints"),
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {name: errors, kind: ratio, namespace: AWS/Lambda, total: Invocations}\n")
    cases.append((["--metrics", str(bad)], "entry 1"))
    for extra, message in cases:
        result = runner.invoke(app, [*base, *extra], env=env)
        assert result.exit_code == 2 and message in result.stderr, (extra, result.stderr)
        assert "Traceback" not in result.stderr
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with pytest.raises(InputError, match="cloudwatch: get_metric_data: Could not connect"):
        cloudwatch_history(
            read_metrics(metrics_file),
            SERVICE,
            end - 3600,
            end,
            STEP,
            endpoint_url="http://127.0.0.1:9",  # nobody listens on the discard port
            region="us-east-1",
        )
