"""`--source file` with Parquet exports: the same model as from CSV, and bad files refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from history_files import FEATURES, healthy, write_csv
from sentra_training.history import read_history
from sentra_training.series import InputError
from typer.testing import CliRunner

from sentra_ml.cli import app
from sentra_ml.store.model_bundle import read_bundle

runner = CliRunner()


def write_parquet(path: Path, rows: list[dict[str, float]], stamps: str = "datetime") -> Path:
    frame = pd.DataFrame(rows)
    if stamps == "datetime":
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="s", utc=True)
    elif stamps == "text":
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="s", utc=True).map(
            lambda t: t.isoformat()
        )
    frame.to_parquet(path, engine="pyarrow")
    return path


@pytest.mark.parametrize("stamps", ["datetime", "seconds", "text"])
def test_parquet_reads_as_the_csv_export_does(tmp_path: Path, stamps: str) -> None:
    rows = healthy(300)
    csv = read_history(write_csv(tmp_path / "h.csv", rows))
    with_null = [dict(r) for r in rows]
    with_null[5][FEATURES[0]] = float("nan")  # a null in the export is a missing value
    parquet = read_history(write_parquet(tmp_path / "h.parquet", with_null, stamps))
    np.testing.assert_array_equal(parquet.times, csv.times)
    assert list(parquet.columns) == list(FEATURES)
    kept = np.arange(len(rows)) != 5
    for name in FEATURES:
        np.testing.assert_allclose(parquet.columns[name][kept], csv.columns[name][kept], atol=1e-6)
    assert np.isnan(parquet.columns[FEATURES[0]][5])


def test_training_from_parquet_gives_the_model_csv_gives(tmp_path: Path) -> None:
    # as the CSV holds them (6 decimals), so that both files hold the same numbers
    rows = [{k: round(v, 6) for k, v in r.items()} for r in healthy(1500)]
    models = []
    for path in (write_csv(tmp_path / "h.csv", rows), write_parquet(tmp_path / "h.parquet", rows)):
        out = tmp_path / path.suffix[1:]
        args = ["train", "--service", "checkout", "--source", "file", "--path", str(path)]
        args += ["--no-mlflow", "--no-progress", "--out", str(out)]
        result = runner.invoke(app, [*args, "--target-false-alarm-rate", "0.01"])
        assert result.exit_code == 0, result.stderr
        models.append(read_bundle(out))
    assert models[0].card["config"] == models[1].card["config"]
    probe = {FEATURES[0]: 0.011, FEATURES[1]: 5.4}
    assert models[0].learner().detect(probe, 1.7e9).p_value == pytest.approx(
        models[1].learner().detect(probe, 1.7e9).p_value, rel=1e-5
    )


def test_bad_parquet_files_are_refused_naming_the_problem(tmp_path: Path) -> None:
    no_time = tmp_path / "a.parquet"
    pd.DataFrame({"when": [1, 2], "x": [1.0, 2.0]}).to_parquet(no_time)
    with pytest.raises(InputError, match="no 'timestamp' column"):
        read_history(no_time)
    text = tmp_path / "b.parquet"
    pd.DataFrame({"timestamp": [1, 2], "x": ["high", "low"]}).to_parquet(text)
    with pytest.raises(InputError, match="column 'x'"):
        read_history(text)
    broken = tmp_path / "c.parquet"
    broken.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="cannot read Parquet"):
        read_history(broken)
    with pytest.raises(InputError, match="no such file"):
        read_history(tmp_path / "missing.parquet")
