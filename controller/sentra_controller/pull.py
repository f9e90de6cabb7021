"""Pulled telemetry: windows from the rollout's `source`, added to its log as if pushed.

Going through the log keeps one path for both kinds of telemetry, and a replica that takes over
replays pulled samples exactly as the first one judged them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from sentra_adapters.telemetry.base import TelemetrySource

from sentra_ml.analysis.types.labels import Cohort
from sentra_ml.analysis.types.specs import RolloutSpec
from sentra_ml.spec import TelemetryLine, line_of


class Puller:
    """Fetches, per metric and cohort, what is newer than the newest sample already seen, from
    the rollout's `start` on: a cohort selector that outlives a release (a `canary` deployment
    or a proxy's cluster, reused by every release) would otherwise hand a new rollout the
    telemetry of the one before it."""

    def __init__(self, source: TelemetrySource, spec: RolloutSpec, start: float) -> None:
        self.source = source
        self.spec = spec
        self.start = start

    def pull(self, since: Mapping[tuple[str, Cohort], float], now: float) -> list[TelemetryLine]:
        """New lines of every metric and cohort up to `now`; raises an AdapterError when the
        source cannot answer (the judge then sees the telemetry go stale)."""
        lines: list[TelemetryLine] = []
        for metric in self.spec.metrics:
            for cohort in Cohort:
                after = since.get((metric.name, cohort), -math.inf)
                window = self.source.fetch(metric.name, cohort, max(self.start, after), now)
                lines.extend(line_of(s) for s in window.samples if s.ts > after)
        lines.sort(key=lambda line: line.ts)
        return lines
