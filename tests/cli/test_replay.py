"""`sentra replay`: recorded telemetry through the judge, and every way input can be wrong."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sentra_ml.cli import app

runner = CliRunner()


def replay(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["replay", *args])
    return result.exit_code, result.stdout, result.stderr


def test_replay_writes_one_decision_per_evaluation_and_rolls_back(
    spec_file: Path, faulty_telemetry: Path, tmp_path: Path
) -> None:
    out = tmp_path / "decisions.jsonl"
    code, _, err = replay(
        "--spec", str(spec_file), "--input", str(faulty_telemetry), "--output", str(out)
    )
    assert code == 0, err
    decisions = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(decisions) >= 3
    assert {"ts", "action", "risk", "weight", "reasons"} <= decisions[0].keys()
    assert [d["ts"] for d in decisions] == sorted(d["ts"] for d in decisions)
    assert decisions[-1]["action"] == "rollback"
    assert decisions[-1]["weight"] == 0.0
    assert any("errors" in r for r in decisions[-1]["reasons"])
    assert "rollback" in err


def test_replay_to_stdout(spec_file: Path, faulty_telemetry: Path) -> None:
    code, out, _ = replay("--spec", str(spec_file), "--input", str(faulty_telemetry))
    assert code == 0
    assert json.loads(out.splitlines()[-1])["action"] == "rollback"


def test_malformed_line_is_rejected_with_its_number_and_no_output_is_left(
    spec_file: Path, faulty_telemetry: Path, tmp_path: Path
) -> None:
    lines = faulty_telemetry.read_text().splitlines()
    lines.insert(4, '{"ts": 1.0, "cohort": "canary", "metric": "errors", "total": 5, "failed": 9}')
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines))
    out = tmp_path / "decisions.jsonl"
    code, _, err = replay("--spec", str(spec_file), "--input", str(bad), "--output", str(out))
    assert code == 2
    assert "line 5" in err and "failed" in err and "exceeds total" in err
    assert "Traceback" not in err
    assert not out.exists()
    assert not list(tmp_path.glob(".replay-*"))


def test_malformed_lines_can_be_skipped_and_are_reported(
    spec_file: Path, faulty_telemetry: Path, tmp_path: Path
) -> None:
    lines = faulty_telemetry.read_text().splitlines()
    lines.insert(2, "not json at all")
    lines.insert(7, '{"ts": 3.0, "cohort": "blue", "metric": "errors", "total": 5, "failed": 1}')
    lines.insert(9, '{"ts": 3.0, "cohort": "canary", "metric": "nope", "value": 1}')
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines))
    out = tmp_path / "decisions.jsonl"
    code, _, err = replay(
        "--spec", str(spec_file), "--input", str(bad), "--output", str(out), "--skip-bad-lines"
    )
    assert code == 0, err
    assert "line 3" in err and "line 8" in err and "cohort" in err
    assert "unknown metric 'nope'" in err
    assert json.loads(out.read_text().splitlines()[-1])["action"] == "rollback"


def test_bad_spec_names_the_field(tmp_path: Path, faulty_telemetry: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("metrics:\n  - name: errors\n    kind: ratio\n    tolerance: -1\n")
    code, _, err = replay("--spec", str(spec), "--input", str(faulty_telemetry))
    assert code == 2
    assert "metrics.0.tolerance" in err


def test_spec_with_unknown_kind_and_bad_steps(tmp_path: Path, faulty_telemetry: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("metrics:\n  - name: x\n    kind: histogramz\n")
    code, _, err = replay("--spec", str(spec), "--input", str(faulty_telemetry))
    assert code == 2 and "metrics.0.kind" in err
    spec.write_text("policy: {steps: [5, 2, 100]}\nmetrics:\n  - {name: x, kind: ratio}\n")
    code, _, err = replay("--spec", str(spec), "--input", str(faulty_telemetry))
    assert code == 2 and "policy.steps" in err


def test_missing_files_are_reported_not_raised(spec_file: Path, tmp_path: Path) -> None:
    code, _, err = replay("--spec", str(spec_file), "--input", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "cannot read" in err
    code, _, err = replay("--spec", str(tmp_path / "none.yaml"), "--input", "-")
    assert code == 2 and "cannot read" in err


def test_cumulative_counters_with_a_reset_replay_like_interval_counts(
    spec_file: Path, faulty_telemetry: Path, tmp_path: Path
) -> None:
    """The same telemetry as counter readings, with the canary restarting half-way."""
    lines = [json.loads(s) for s in faulty_telemetry.read_text().splitlines()]
    running: dict[str, list[float]] = {}
    for line in lines:
        if "total" not in line:
            continue
        acc = running.setdefault(line["cohort"], [0.0, 0.0])
        if line["cohort"] == "canary" and line["ts"] == 120.0:
            acc[:] = [0.0, 0.0]  # the process restarted: its counters start again from 0
        acc[0] += line["total"]
        acc[1] += line["failed"]
        line.update(total=acc[0], failed=acc[1], counter=True)
    as_counters = tmp_path / "counters.jsonl"
    as_counters.write_text("\n".join(json.dumps(x) for x in lines))
    out = tmp_path / "decisions.jsonl"
    code, _, err = replay(
        "--spec", str(spec_file), "--input", str(as_counters), "--output", str(out)
    )
    assert code == 0, err
    assert json.loads(out.read_text().splitlines()[-1])["action"] == "rollback"
