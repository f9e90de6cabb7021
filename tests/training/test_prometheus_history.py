"""`sentra train --source prometheus` against a real Prometheus scraping a tiny exporter."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "adapters"))
from adapter_servers import wait_until  # type: ignore[import-not-found]
from prometheus_server import (  # type: ignore[import-not-found]
    PrometheusSetup,
    running_prometheus,
)
from sentra_training.history import prometheus_history

from sentra_ml.cli import app
from sentra_ml.store.model_bundle import read_bundle

CPU = 'sum(process_cpu_ratio{version="v1"})'  # the exporter's two v1 pods: 0.4 + 0.42
ERRORS = (
    'sum(rate(http_requests_total{version="v1",code="500"}[5s]))'
    ' / sum(rate(http_requests_total{version="v1"}[5s]))'
)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusSetup]:
    with running_prometheus(tmp_path_factory.mktemp("prometheus")) as setup:

        def rated() -> bool:
            answer = httpx.get(f"{setup.url}/api/v1/query", params={"query": ERRORS}).json()
            return bool(answer["data"]["result"])

        wait_until(rated, 30, "a first non-empty rate()")  # polled: ~6 s after start

        def eight_seconds() -> bool:  # of rated history: what the tests ask for
            end = time.time()
            got = prometheus_history(setup.url, {"e": ERRORS}, end - 8, end, 0.02)
            return bool(got.times[0] <= end - 7.9 and np.isfinite(got.columns["e"][:5]).all())

        wait_until(eight_seconds, 60, "eight seconds of history", every=0.5)
        yield setup


def test_features_come_back_on_one_time_grid(prometheus: PrometheusSetup) -> None:
    end = time.time()
    series = prometheus_history(
        prometheus.url, {"cpu": CPU, "errors.ratio": ERRORS}, end - 6, end, 0.02
    )
    assert len(series) == 301 and list(series.columns) == ["cpu", "errors.ratio"]
    assert np.all(np.diff(series.times) > 0)
    assert np.nanmedian(series.columns["cpu"]) == pytest.approx(0.82)
    assert np.nanmedian(series.columns["errors.ratio"]) == pytest.approx(0.01, abs=0.002)


def test_train_from_prometheus_and_its_errors(prometheus: PrometheusSetup, tmp_path: Path) -> None:
    base = [
        "train",
        "--service",
        "checkout",
        "--source",
        "prometheus",
        "--url",
        prometheus.url,
        "--since",
        "8s",
        "--step",
        "0.02",
        "--target-false-alarm-rate",
        "0.05",
        "--no-mlflow",
        "--no-progress",
    ]
    runner = CliRunner()
    result = runner.invoke(app, [*base, "--query", f"cpu={CPU}", "--out", str(tmp_path / "m")])
    assert result.exit_code == 0, result.stderr
    assert read_bundle(tmp_path / "m").card["features"] == ["cpu"]
    two = runner.invoke(app, [*base, "--query", "cpu=process_cpu_ratio"])
    assert two.exit_code == 2 and "series returned" in two.stderr
    empty = runner.invoke(app, [*base, "--query", "x=nothing_here"])
    assert empty.exit_code == 2 and "--query x: no data" in empty.stderr
    bad = runner.invoke(app, [*base, "--since", "two weeks"])
    assert bad.exit_code == 2 and "--since" in bad.stderr
    gone = [a if a != prometheus.url else "http://127.0.0.1:9" for a in base]
    down = runner.invoke(app, [*gone, "--query", f"cpu={CPU}"])
    assert down.exit_code == 2 and "--url" in down.stderr and "Traceback" not in down.stderr
