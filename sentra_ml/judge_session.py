"""One rollout's judge and the telemetry fed to it: the one feed loop.

Replay, the controller, one-shot verdicts and the demo all feed a judge the same way: telemetry
lines become samples (cumulative counters become increments, per series), each sample goes to
the judge, and the judge is evaluated at times that never go back, until it rolls back or
promotes. Only what differs stays with them: where the lines come from and when to evaluate.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from sentra_ml.analysis.anomaly import ServiceLearner
from sentra_ml.analysis.judge import RolloutJudge
from sentra_ml.analysis.types.labels import Cohort
from sentra_ml.analysis.types.samples import Sample
from sentra_ml.analysis.types.specs import RolloutSpec
from sentra_ml.analysis.types.verdict import Verdict
from sentra_ml.ingest import CounterIngest
from sentra_ml.spec import TelemetryLine


@dataclass(kw_only=True)
class JudgeSession:
    """A judge, the counter state of its lines, and its clock.

    `interval` spaces the evaluations of `due`, from `next_due` on; `clock` is the last
    evaluation time (an evaluation asked for earlier happens at the clock instead); `since` the
    newest line time per (metric, cohort), where a puller resumes.
    """

    judge: RolloutJudge
    interval: float = 2.0
    counters: CounterIngest = field(default_factory=CounterIngest)
    clock: float = -math.inf
    lines: int = 0  # telemetry lines observed so far
    since: dict[tuple[str, Cohort], float] = field(default_factory=dict)
    next_due: float = math.inf  # the next evaluation time of `due`

    @classmethod
    def starting(
        cls,
        spec: RolloutSpec,
        start_ts: float,
        learner: ServiceLearner | None = None,
        *,
        interval: float = 2.0,
    ) -> JudgeSession:
        """A new judge of `spec` from `start_ts`, first due one `interval` later."""
        judge = RolloutJudge(spec, start_ts, learner)
        return cls(judge=judge, interval=interval, next_due=start_ts + interval)

    @property
    def decided(self) -> bool:
        """Whether the judge has rolled back or promoted (its verdict sticks)."""
        return self.judge.final is not None

    def observe_line(self, line: TelemetryLine) -> Sample | None:
        """Take one line; the sample the judge took (None for a counter's first reading).
        Raises SampleError when the judge cannot take it (it is still counted, and its time
        still moves `since`: it arrived)."""
        self.lines += 1
        key = (line.metric, line.cohort)
        self.since[key] = max(self.since.get(key, -math.inf), line.ts)
        sample = self.counters.sample(line)  # None: a counter's first reading, no increment yet
        if sample is not None:
            self.judge.observe(sample)
        return sample

    def observe(self, sample: Sample) -> None:
        """Take one sample (already an increment); raises SampleError as the judge does."""
        self.judge.observe(sample)

    def evaluate(self, now: float) -> Verdict:
        """The verdict at `now`, or at the clock if `now` is before it."""
        now = max(now, self.clock)
        verdict = self.judge.evaluate(now)
        self.clock = now
        return verdict

    def due(self, ts: float) -> Iterator[Verdict]:
        """The verdicts at the evaluation times (every `interval` from the judge's start) that
        telemetry at `ts` has passed, up to a final one. A line older than the last evaluation
        is late: it counts in the next one."""
        while ts > self.next_due and not self.decided:
            yield self.evaluate(self.next_due)
            self.next_due += self.interval

    def close(self) -> Verdict | None:
        """The verdict at the next evaluation time once the telemetry has ended, unless the
        judge had decided already."""
        return None if self.decided else self.evaluate(self.next_due)
