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
