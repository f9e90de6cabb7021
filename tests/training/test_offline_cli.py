"""`score` and `evaluate`: files in and out, NAB numbers, and every way input can be wrong."""

from __future__ import annotations

import csv
import json
import math
import time
from pathlib import Path

import pytest
from sentra_training.offline_cli import app
from sentra_training.series import atomic_writer
from typer.testing import CliRunner

runner = CliRunner()
START = 1_400_000_000  # Unix seconds, 5-minute rows


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write_series(path: Path, values: list[float], *, iso: bool = True, extra: str = "") -> Path:
    with path.open("w") as f:
        f.write("timestamp,value" + (",other" if extra else "") + "\n")
        for i, v in enumerate(values):
            ts = START + 300 * i
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) if iso else str(ts)
            f.write(f"{stamp},{v}" + (f",{extra}" if extra else "") + "\n")
    return path


def series_with_spike(n: int = 3000, at: int = 2500) -> list[float]:
    values = [50 + 10 * math.sin(2 * math.pi * i / 288) + (i * 37 % 11) / 5 for i in range(n)]
    values[at] += 80
    return values


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_score_writes_one_row_per_input_row_and_flags_the_spike(tmp_path: Path) -> None:
    source = write_series(tmp_path / "in.csv", series_with_spike())
    out = tmp_path / "scores.csv"
    code, _, err = run("score", "--input", str(source), "--output", str(out), "--no-progress")
    assert code == 0, err
    rows = read_rows(out)
    assert len(rows) == 3000 and list(rows[0]) == ["timestamp", "score", "flag"]
    assert rows[0]["timestamp"] == time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(START))
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in rows)
    assert rows[2500]["flag"] == "1" and float(rows[2500]["score"]) > 0.999
    assert "3000 rows" in err and "rows/s" in err


def test_score_takes_unix_timestamps_and_several_columns(tmp_path: Path) -> None:
    source = write_series(tmp_path / "in.csv", [1.0, 2.0, 3.0] * 100, iso=False, extra="7")
    out = tmp_path / "scores.csv"
    code, _, err = run("score", "--input", str(source), "--output", str(out))  # with progress
    assert code == 0, err
    assert "2 feature(s)" in err
    assert read_rows(out)[-1]["timestamp"] == str(START + 300 * 299)


def test_score_streams_20000_rows_in_a_few_seconds(tmp_path: Path) -> None:
    source = write_series(tmp_path / "in.csv", series_with_spike(20_000, 15_000))
    out = tmp_path / "scores.csv"
    started = time.perf_counter()
    code, _, err = run("score", "--input", str(source), "--output", str(out), "--no-progress")
    assert code == 0, err
    assert time.perf_counter() - started < 5.0
    assert len(read_rows(out)) == 20_000


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("", "the file is empty"),
        ("timestamp,value\n", "no data rows"),
        ("time,value\n1,2\n", "no 'timestamp' column (columns: time, value)"),
        ("timestamp\n1\n", "no numeric column"),
        ("timestamp,value\n1,2\n2,3\n3,abc\n", "line 4, column 'value': 'abc' is not a number"),
        ("timestamp,value\n2014-01-01 00:00:00,2\nyesterday,3\n", "line 3: bad timestamp"),
    ],
)
def test_bad_input_names_the_problem_exits_2_and_writes_nothing(
    tmp_path: Path, content: str | None, message: str
) -> None:
    source = tmp_path / "in.csv"
    if content is not None:
        source.write_text(content)
    out = tmp_path / "scores.csv"
    code, _, err = run("score", "--input", str(source), "--output", str(out), "--no-progress")
    assert code == 2
    assert message in " ".join(err.split()), err
    assert "Traceback" not in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["in.csv"] if content is not None else [])


def test_missing_output_folder_is_refused(tmp_path: Path) -> None:
    source = write_series(tmp_path / "in.csv", [1.0] * 10)
    code, _, err = run("score", "--input", str(source), "--output", str(tmp_path / "no" / "x.csv"))
    assert code == 2 and "does not exist" in err


def test_an_interrupted_write_leaves_neither_output_nor_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "scores.csv"
    target.write_text("previous\n")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]


def write_scores(path: Path, n: int, detections: dict[int, float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        f.write("timestamp,score,flag\n")
        for i in range(n):
            s = detections.get(i, 0.0)
            f.write(f"{START + 300 * i},{s},{int(s >= 0.5)}\n")


def stamp(i: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(START + 300 * i))


@pytest.fixture
def labelled(tmp_path: Path) -> tuple[Path, Path]:
    """Two files of 100 rows: `a` with window [50, 59] detected at its start, `b` without one."""
    scores = tmp_path / "scores"
    write_scores(scores / "cat" / "a.csv", 100, {50: 0.9})
    write_scores(scores / "cat" / "b.csv", 100, {})
    labels = tmp_path / "windows.json"
    labels.write_text(json.dumps({"cat/a.csv": [[stamp(50), stamp(59)]], "cat/b.csv": []}))
    return scores, labels


def test_evaluate_a_perfect_detector_scores_100_in_every_profile(
    labelled: tuple[Path, Path], tmp_path: Path
) -> None:
    scores, labels = labelled
    report = tmp_path / "report.json"
    code, out, err = run(
        "evaluate", "--scores", str(scores), "--labels", str(labels), "--json", str(report)
    )
    assert code == 0, err
    assert "NAB scores over 2 files" in out
    result = json.loads(report.read_text())
    for profile in ("standard", "reward_low_FP_rate", "reward_low_FN_rate"):
        assert result["nab"][profile]["score"] == pytest.approx(100.0)
        assert result["nab"][profile]["score_at_flags"] == pytest.approx(100.0)
    assert (result["precision"], result["recall"], result["mean_delay_s"]) == (1.0, 1.0, 0.0)


def test_evaluate_counts_a_late_detection_and_a_false_positive(tmp_path: Path) -> None:
    scores = tmp_path / "scores"
    write_scores(scores / "a.csv", 100, {20: 0.9, 59: 0.8})  # FP before, TP at the window's end
    labels = tmp_path / "windows.json"
    labels.write_text(json.dumps({"a.csv": [[stamp(50), stamp(59)]]}))
    report = tmp_path / "r.json"
    code, _, err = run(
        "evaluate", "--scores", str(scores), "--labels", str(labels),
        "--profile", "standard", "--json", str(report),
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(report.read_text())
    # raw: -0.11 (FP before any window) + 0.24824 (TP on the window's last point) = 0.13824,
    # normalised (raw + 1) / 2. Threshold 0.9 alone (-1.11) is worse, so 0.8 is the best.
    assert result["nab"]["standard"]["score_at_flags"] == pytest.approx(56.912, abs=1e-3)
    assert result["nab"]["standard"]["score"] == pytest.approx(56.912, abs=1e-3)
    assert result["mean_delay_s"] == 9 * 300
    assert result["precision"] == 0.5


def test_evaluate_writes_plots_with_the_series(labelled: tuple[Path, Path], tmp_path: Path) -> None:
    scores, labels = labelled
    data = tmp_path / "data"
    (data / "cat").mkdir(parents=True)
    write_series(data / "cat" / "a.csv", [1.0] * 100, iso=False)
    plots = tmp_path / "plots"
    code, _, err = run(
        "evaluate", "--scores", str(scores), "--labels", str(labels),
        "--plots", str(plots), "--data", str(data),
    )  # fmt: skip
    assert code == 0, err
    pngs = sorted(p.name for p in plots.iterdir())
    assert pngs == ["cat__a.png", "cat__b.png"]
    assert (plots / "cat__a.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluate_refuses_bad_arguments(labelled: tuple[Path, Path], tmp_path: Path) -> None:
    scores, labels = labelled
    code, _, err = run("evaluate", "--scores", str(scores), "--labels", str(labels),
                       "--profile", "lenient")  # fmt: skip
    assert code == 2 and "'lenient' is not one of" in " ".join(err.split())
    bad = tmp_path / "bad.json"
    bad.write_text('{"cat/a.csv": [["2014-01-01"]]}')
    code, _, err = run("evaluate", "--scores", str(scores), "--labels", str(bad))
    assert code == 2 and "[start, end]" in err
    code, _, err = run("evaluate", "--scores", str(tmp_path / "nope"), "--labels", str(labels))
    assert code == 2 and "not a folder" in err
    other = tmp_path / "other.json"
    other.write_text('{"x.csv": []}')
    code, _, err = run("evaluate", "--scores", str(scores), "--labels", str(other))
    assert code == 2 and "no scores file" in err
    assert "Traceback" not in err


def test_the_score_commands_default_alarm_rate_is_the_learners() -> None:
    from sentra_training.offline_cli import ALARM_RATE

    from sentra_ml.analysis.anomaly import LearnerConfig

    assert LearnerConfig.alarm_rate == ALARM_RATE
