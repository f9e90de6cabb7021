"""The one feed loop: lines into a judge, evaluations due on a grid, a clock never going back."""

from __future__ import annotations

import pytest

from sentra_ml.analysis.types.errors import SampleError
from sentra_ml.analysis.types.labels import Action, Cohort
from sentra_ml.analysis.types.samples import RatioSample
from sentra_ml.judge_session import JudgeSession
from sentra_ml.simulate import default_spec
from sentra_ml.spec import TelemetryLine


def counter(ts: float, cohort: str, total: float, failed: float) -> TelemetryLine:
    return TelemetryLine(
        ts=ts, cohort=Cohort(cohort), metric="errors", total=total, failed=failed, counter=True
    )


def test_counter_lines_become_increments_and_every_line_counts() -> None:
    session = JudgeSession.starting(default_spec(), 0.0)
    seen: list[RatioSample] = []
    session.judge.observe = seen.append  # type: ignore[method-assign,assignment]
    session.observe_line(counter(1.0, "canary", 100, 1))  # a first reading: no increment yet
    session.observe_line(counter(3.0, "canary", 150, 2))
    session.observe_line(counter(5.0, "canary", 10, 0))  # a reset: the reading is the increment
    assert [(s.total, s.failed) for s in seen] == [(50, 1), (10, 0)]
    assert session.lines == 3 and session.since == {("errors", Cohort.CANARY): 5.0}


def test_a_line_the_judge_refuses_raises_and_still_counts() -> None:
    session = JudgeSession.starting(default_spec(), 0.0)
    line = TelemetryLine(ts=1.0, cohort=Cohort.CANARY, metric="nope", total=1, failed=0)
    with pytest.raises(SampleError, match="unknown metric 'nope'"):
        session.observe_line(line)
    assert session.lines == 1


def test_evaluations_are_due_on_the_grid_and_the_clock_never_goes_back() -> None:
    session = JudgeSession.starting(default_spec(), 10.0, interval=2.0)
    assert [v.ts for v in session.due(17.0)] == [12.0, 14.0, 16.0]
    assert list(session.due(17.5)) == []  # 18 is not passed yet
    assert session.evaluate(3.0).ts == 16.0  # asked for the past: judged at the clock
    closing = session.close()
    assert closing is not None and closing.ts == 18.0


def test_nothing_is_due_once_the_judge_has_decided() -> None:
    session = JudgeSession.starting(default_spec(), 0.0, interval=2.0)
    for k in range(1, 400):
        ts = 2.0 * k
        for cohort, failed in (("baseline", 1), ("canary", 60)):
            sample = RatioSample(ts - 1.0, Cohort(cohort), "errors", 200, failed)
            session.observe(sample)
        verdicts = list(session.due(ts + 1.0))
        if session.decided:
            break
    assert session.decided and verdicts[-1].action is Action.ROLLBACK
    assert list(session.due(ts + 100.0)) == [] and session.close() is None
