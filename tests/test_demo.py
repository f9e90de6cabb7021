"""`sentra demo`: the healthy canary is promoted, the faulty one rolled back, the audit written."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from sentra_ml.analysis.types.labels import Action
from sentra_ml.demo import run_demo


def test_demo_promotes_the_healthy_and_rolls_back_the_faulty(tmp_path: Path) -> None:
    screen = io.StringIO()
    audit = tmp_path / "audit.jsonl"
    finals = run_demo(Console(file=screen, width=120), audit, seconds_per_tick=0.0)
    assert [v.action for v in finals] == [Action.PROMOTE, Action.ROLLBACK]
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    healthy = [r for r in records if "healthy" in r["rollout"]]
    faulty = [r for r in records if "healthy" not in r["rollout"]]
    weights = [r["weight"] for r in healthy]
    assert weights == sorted(weights) and len(set(weights)) >= 4  # adaptive steps, in order
    assert healthy[-1]["action"] == "promote"
    assert faulty[-1]["action"] == "rollback" and faulty[-1]["reasons"]
    assert "ROLLBACK" in screen.getvalue() and "PROMOTE" in screen.getvalue()


def test_off_a_terminal_each_decision_is_a_line_and_the_panel_has_a_legend(
    tmp_path: Path,
) -> None:
    screen = io.StringIO()
    run_demo(Console(file=screen, width=80), tmp_path / "audit.jsonl", seconds_per_tick=0.0)
    lines = screen.getvalue().splitlines()
    healthy = [line for line in lines if line.startswith("checkout v2.4.1 (healthy): t=")]
    assert any("(1 % -> 2 %)" in line for line in healthy)  # each step is visible
    assert any("holding:" in line for line in healthy)  # and each hold, with its reason
    assert "PROMOTE" in healthy[-1] and "(50 % -> 100 %)" in healthy[-1]
    assert any(line.startswith("checkout v2.5.0") and "ROLLBACK" in line for line in lines)
    legend = [line for line in lines if "risk: 1 = roll back" in line]
    assert len(legend) == 2 and all("anytime-valid CI" in line for line in legend)  # one line


def test_the_demo_panel_shows_no_score_before_data() -> None:
    from sentra_ml.analysis.judge import RolloutJudge
    from sentra_ml.demo import render
    from sentra_ml.simulate import default_spec

    screen = io.StringIO()
    verdict = RolloutJudge(default_spec(), start_ts=0.0).evaluate(2.0)
    Console(file=screen, width=100).print(render("waiting", 2.0, verdict))
    assert "score   -" in screen.getvalue() and "waiting for data" in screen.getvalue()
