"""The traffic-share check: does the canary receive the share of requests its weight implies?

A canary that crashes, fails its health checks or is not routed at all serves fewer requests
than its weight says, and its own error ratio and latency look fine: it counts no errors for the
requests it never saw. This is the sample-ratio-mismatch test of A/B platforms, made sequential.
Each request goes to the canary with probability `p`; with the weight `w` in force the check
tests the null `p >= (1 - SHARE_TOLERANCE) * w` with the anytime-valid binomial mixture
(`log_e_below`), on the requests of the first ratio metric counted since the weight settled.
Lines are binned on the judge's interval grid, so cohorts need not report at the same instants.
A canary whose telemetry skips intervals and then resumes (a process that crashes and is
restarted) served nothing in them. While the gap is open it is the stale-data rule's to judge
(pause, then fail safe after `stale_after_seconds + grace_seconds`), and a gap that never closes
within that time counts for neither cohort; one that closes counts, so that a canary restarted
ever more slowly (CrashLoopBackOff) is seen to lose its share.

- A significant deficit pauses the rollout (the cause is unknown: a crash loop, failing health
  checks, a router that does not route).
- A significant collapse, the share below COLLAPSE of what the weight implies, rolls it back.

Weights are known when the controller tells the judge what the router verified (`applied`).
Without them (replays of recorded telemetry, push-only rollouts whose weights a CD system sets),
the canary's share is compared with its own earlier share instead: the lower end of a
confidence sequence for it, measured over the first REFERENCE_SECONDS, and the report says so.
A replay whose split differs from the plan therefore never pauses for that alone.

Guarantee: for a canary routed as its weight says, the probability that this check ever pauses
the rollout is at most `alpha` (split evenly over the weights below 100 % of the policy, or, with
no weights known, half on the reference and half on the test). The collapse test uses the same
counts against a lower share, so it never fires when the pause test would not: its false
rollbacks are within the same `alpha`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from sentra_ml.analysis.stats.binomial_cs import log_e_below, proportion_interval
from sentra_ml.analysis.types.labels import Cohort, MetricKind
from sentra_ml.analysis.types.samples import RatioSample, Sample
from sentra_ml.analysis.types.specs import RolloutSpec

SHARE_TOLERANCE = 0.1  # routers split by rounding, connection reuse and scrape jitter
COLLAPSE = 0.5  # the canary serving under half its share has lost it
SETTLE_INTERVALS = 2  # intervals after a weight change that still mix the old split
REFERENCE_SECONDS = 60.0  # without known weights: how long the canary's own share is measured


class ShareFinding(StrEnum):
    DEFICIT = "deficit"
    COLLAPSE = "collapse"


@dataclass(frozen=True)
class ShareCheck:
    """What the check found, with its evidence in words."""

    finding: ShareFinding
    reason: str


@dataclass
class _Segment:
    """Requests counted under one expected share, from `start` on."""

    start: float
    expected: float | None  # the share the weight implies; None: measure it first (reference)
    canary: float = 0.0
    baseline: float = 0.0
    skipped: int = 0  # intervals the canary did not report, counted as serving nothing


class TrafficShare:
    """Sequential sample-ratio-mismatch test of the canary's share of requests."""

    def __init__(self, spec: RolloutSpec, alpha: float, start_ts: float) -> None:
        ratio = [m.name for m in spec.metrics if m.kind is MetricKind.RATIO]
        self.metric = ratio[0] if ratio else None
        self.interval = spec.interval_seconds
        self.settle = SETTLE_INTERVALS * spec.interval_seconds
        self.max_gap = spec.stale_after_seconds + spec.grace_seconds
        partial = [w for w in spec.policy.steps if w < 100.0]
        self.known_threshold = math.log(max(len(partial), 1) / alpha)
        self.alpha = alpha
        self.weight: float | None = None
        self.segment = _Segment(start=start_ts + self.settle, expected=None)
        self.reference: float | None = None  # the measured share, when no weight is known
        self.found: ShareCheck | None = None
        self._waiting: dict[int, float] = {}  # baseline requests per bin, until the canary reports
        self._canary_bin: int | None = None  # the newest bin the canary reported

    @property
    def known(self) -> bool:
        """Whether the router told the judge its weights."""
        return self.weight is not None

    def applied(self, weight: float, ts: float) -> None:
        """The router verified `weight` (canary percent) in force from `ts`."""
        if weight == self.weight:
            return  # a re-verified weight keeps its test (and its share of alpha)
        self.weight = weight
        self.found = None
        self.segment = _Segment(start=ts + self.settle, expected=weight / 100.0)
        first = self._bin(self.segment.start + self.interval)
        self._waiting = {b: n for b, n in self._waiting.items() if b >= first}

    def observe(self, sample: Sample) -> None:
        if not isinstance(sample, RatioSample) or sample.metric != self.metric:
            return
        if sample.ts - self.interval < self.segment.start:
            return  # its interval began before the split settled
        at = self._bin(sample.ts)
        if sample.cohort is Cohort.BASELINE:
            if self._canary_bin is not None and at <= self._canary_bin:
                self.segment.baseline += sample.total  # a late line: the canary's side is known
            else:
                self._waiting[at] = self._waiting.get(at, 0.0) + sample.total
            return
        self.segment.canary += sample.total
        if self._canary_bin is None or at > self._canary_bin:
            self._settle_waiting(at)
            self._canary_bin = at

    def close(self, now: float) -> ShareCheck | None:
        """The finding at `now`, if any; a deficit may still become a collapse, and a finding
        sticks until the weight changes."""
        if self.metric is None or (self.found and self.found.finding is ShareFinding.COLLAPSE):
            return self.found
        outage = self._bin(now - self.max_gap - 2 * self.interval)
        self._waiting = {b: n for b, n in self._waiting.items() if b > outage}
        seg = self.segment
        if seg.expected is None:
            self._measure_reference(now)
            return None
        n = seg.canary + seg.baseline
        if not 0.0 < seg.expected < 1.0 or n <= 0:
            return self.found
        threshold = self.known_threshold if self.known else math.log(2.0 / self.alpha)
        floor = (1.0 - SHARE_TOLERANCE) * seg.expected
        if log_e_below(seg.canary, n, floor) < threshold:
            return self.found
        collapsed = log_e_below(seg.canary, n, COLLAPSE * seg.expected) >= threshold
        self.found = ShareCheck(
            ShareFinding.COLLAPSE if collapsed else ShareFinding.DEFICIT,
            self._words(collapsed, seg),
        )
        return self.found

    def _bin(self, ts: float) -> int:
        return math.floor(ts / self.interval)

    def _settle_waiting(self, at: int) -> None:
        """The canary reported bin `at`: the baseline bins before it are decided."""
        previous = self._canary_bin
        for b in sorted(x for x in self._waiting if x < at):
            requests = self._waiting.pop(b)
            # before the canary's first line it may not have started: nothing is known
            if previous is not None and (at - previous - 1) * self.interval <= self.max_gap:
                self.segment.baseline += requests
                self.segment.skipped += 1
        if at in self._waiting:
            self.segment.baseline += self._waiting.pop(at)

    def _measure_reference(self, now: float) -> None:
        seg = self.segment
        if now - seg.start < REFERENCE_SECONDS or seg.canary + seg.baseline <= 0:
            return
        low, _ = proportion_interval(seg.canary, seg.canary + seg.baseline, self.alpha)
        self.reference = seg.canary / (seg.canary + seg.baseline)
        self.segment = _Segment(start=now, expected=low)

    def _words(self, collapsed: bool, seg: _Segment) -> str:
        n = seg.canary + seg.baseline
        got = f"traffic share: the canary served {seg.canary / n:.1%} of {n:,.0f} requests"
        if seg.skipped:
            got += f" (it reported nothing for {seg.skipped} intervals between reports)"
        assert seg.expected is not None
        if self.known:
            against = f"its {self.weight:g} % weight implies {seg.expected:.1%}"
        else:
            assert self.reference is not None
            against = (
                f"its own earlier share was {self.reference:.1%} (no weights known: compared with "
                "its past)"
            )
        if collapsed:
            return f"{got}, {against}: the canary's share collapsed, rolling back"
        return (
            f"{got}, {against}: pausing, cause unknown (crashing, failing health checks, or not "
            "routed as set)"
        )
