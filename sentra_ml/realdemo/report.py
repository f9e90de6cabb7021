"""What a real run showed a user: outcome, time to rollback or promotion, failed requests, and
telemetry-to-decision latency; as a table, JSON and a plot per scenario.

Telemetry-to-decision latency of a weight change = when the front served the new weights (seen
from outside the router) minus when the newest telemetry the decision used was exposed: the
decision at tick time `ts` used Prometheus's sample at ``T = floor(ts / step) * step``, whose
newest raw data is the canary's last scrape at or before T.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sentra_ml.realdemo.play import Played
from sentra_ml.realdemo.scenarios import INTERVAL_SECONDS

SLACK = 0.05  # Prometheus stamps a scrape when it starts; the service sees it a moment later
REACHED = ("applied", "reconciled")


@dataclass(frozen=True)
class Latency:
    weight: float
    total: float  # exposure -> served
    scrape_age: float  # exposure -> the sample's timestamp T
    tick_wait: float  # T -> the tick that decided
    act: float  # the tick -> served (pull, judge, record, router call, reload)


@dataclass(frozen=True)
class Summary:
    scenario: str
    router: str
    expected: str
    state: str
    passed: bool
    seconds_to_promote: float | None  # creation -> 100 % served
    seconds_onset_to_rollback: float | None  # fault onset -> 0 % served
    requests: int
    failed: int
    failed_share: float
    excess_failed_share: float  # beyond the baseline's own error ratio: what the canary cost
    canary_failed: int  # canary requests that failed before the rollout ended
    weights: list[float]
    latencies: list[Latency]
    reasons: list[str]
    restarts: int

    def latency_quantile(self, q: float) -> float | None:
        values = sorted(x.total for x in self.latencies)
        return quantile(values, q) if values else None


def quantile(sorted_values: list[float], q: float) -> float:
    k = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[k]


def latencies(played: Played, step: float = INTERVAL_SECONDS) -> list[Latency]:
    found = []
    for change in played.changes:
        if change["status"] not in REACHED:
            continue
        ts = float(change["ts"])
        k = bisect.bisect_left(played.served, ts - SLACK)
        newest = math.floor(ts / step) * step
        j = bisect.bisect_right(played.scrapes, newest + SLACK)
        if k == len(played.served) or j == 0:
            continue  # not seen served (or no scrape logged): no figure rather than a guess
        served, exposed = played.served[k], played.scrapes[j - 1]
        found.append(
            Latency(change["weight"], served - exposed, newest - exposed, ts - newest, served - ts)
        )
    return found


def summarize(played: Played, router: str) -> Summary:
    lats = latencies(played)
    end = _served_at(played, 0.0 if played.state != "promoted" else 100.0)
    promote = None
    if played.state == "promoted" and end is not None:
        promote = end - played.created
    rollback = None
    if played.state == "rolled_back" and end is not None and played.onset is not None:
        rollback = end - played.onset
    until = end if end is not None else math.inf
    failed = [r for r in played.responses if r.failed]
    base = [r for r in played.responses if r.cohort == "baseline"]
    base_ratio = sum(r.failed for r in base) / max(1, len(base))
    excess = max(0.0, len(failed) - base_ratio * len(played.responses))
    return Summary(
        scenario=played.scenario.name,
        router=router,
        expected=played.scenario.expect,
        state=played.state,
        passed=played.state == played.scenario.expect,
        seconds_to_promote=promote,
        seconds_onset_to_rollback=rollback,
        requests=len(played.responses),
        failed=len(failed),
        failed_share=len(failed) / max(1, len(played.responses)),
        excess_failed_share=excess / max(1, len(played.responses)),
        canary_failed=sum(1 for r in failed if r.cohort == "canary" and r.ts < until),
        weights=[c["weight"] for c in played.changes if c["status"] in REACHED],
        latencies=lats,
        reasons=played.reasons,
        restarts=played.restarts,
    )


def _served_at(played: Played, weight: float) -> float | None:
    for change in played.changes:
        if change["status"] in REACHED and change["weight"] == weight:
            k = bisect.bisect_left(played.served, float(change["ts"]) - SLACK)
            if k < len(played.served):
                return played.served[k]
    return None


def to_json(
    summaries: list[Summary], played: list[Played], about: dict[str, Any]
) -> dict[str, Any]:
    all_lats = sorted(x.total for s in summaries for x in s.latencies)
    return {
        **about,
        "latency_seconds": {
            "n": len(all_lats),
            "p50": quantile(all_lats, 0.5) if all_lats else None,
            "p99": quantile(all_lats, 0.99) if all_lats else None,
            "max": all_lats[-1] if all_lats else None,
        },
        "scenarios": [asdict(s) for s in summaries],
        "timelines": [
            {
                "scenario": p.scenario.name,
                "created": p.created,
                "onset": p.onset,
                "verdicts": p.verdicts,
                "changes": p.changes,
            }
            for p in played
        ],
    }


def write(out: Path, name: str, document: dict[str, Any], played: list[Played]) -> list[Path]:
    """JSON and PNG under `out`; the paths written."""
    import json

    from sentra_ml.realdemo.plot import plot

    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(document, indent=1, default=float) + "\n")
    png = out / f"{name}.png"
    plot(played, png, title=name)
    return [path, png]
