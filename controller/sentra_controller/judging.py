"""One rollout's judge session, fed from its telemetry log.

The log is the analysis checkpoint: a replica that takes over (or restarts) rebuilds the judge by
replaying it, evaluating at the same spacing as live, and applying the weight changes the router
verified at the times they were verified, so its step state comes back too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from sentra_controller.intervals import IntervalWindow
from sentra_ml.analysis.types.errors import SampleError
from sentra_ml.analysis.types.specs import RolloutSpec
from sentra_ml.judge_session import JudgeSession
from sentra_ml.spec import TelemetryLine
from sentra_ml.store import telemetry_log
from sentra_ml.store.bus import Bus


@dataclass
class Consumed:
    batches: int = 0
    refused: list[str] = field(default_factory=list)  # lines the judge could not take, and why
    restarted: bool = False  # the log was begun anew (Redis lost it)


@dataclass(kw_only=True)
class LogSession(JudgeSession):
    """The judge session of one rollout and where it stands in the rollout's log."""

    rollout_id: str
    spec: RolloutSpec
    epoch: str | None = None
    offset: int = 0
    changes: list[tuple[float, float]] = field(default_factory=list)  # (ts, weight) to replay
    window: IntervalWindow = field(init=False)  # the samples since the last tick, for the series

    def __post_init__(self) -> None:
        self.window = IntervalWindow(self.spec)

    def consume(self, bus: Bus, until: float) -> Consumed:
        """Observe the log from the offset on; a backlog (a rebuild) is judged as it went,
        every `interval` seconds of telemetry, so the step schedule is rebuilt as well.

        Only entries older than one interval before `until` count as backlog: the fresh
        entries of one tick (say a baseline push, then a canary push) are judged together, so
        an evaluation between them cannot close a window before the second one is observed."""
        read = telemetry_log.read(bus, self.rollout_id, self.epoch, self.offset)
        self.epoch, self.offset = read.epoch, read.start
        out = Consumed(restarted=read.restarted)
        backlog = len(read.entries) > 1
        for batch in read.entries:
            self.offset += 1
            out.batches += 1
            self._observe(batch, out)
            newest = min(max((line.ts for line in batch), default=-math.inf), until)
            rebuilding = backlog and newest <= until - self.interval
            if rebuilding and newest >= self.clock + self.interval:
                self._replay_changes(before=newest)
                self.judge.evaluate(newest)
                self.clock = newest
        self._replay_changes(before=until)
        return out

    def _observe(self, batch: Sequence[TelemetryLine], out: Consumed) -> None:
        for line in batch:
            try:
                sample = self.observe_line(line)
            except SampleError as err:  # checked at the edge; a line that still fails is news
                out.refused.append(f"{line.metric} ({line.cohort}) at ts={line.ts:.3f}: {err}")
                continue
            if sample is not None:
                self.window.add(sample)

    def _replay_changes(self, before: float) -> None:
        while self.changes and self.changes[0][0] < before:
            ts, weight = self.changes.pop(0)
            self.judge.reached(weight, ts)
