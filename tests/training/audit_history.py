"""An audit database holding a service's past rollouts as the controller records them: the
rollout, the weights the router verified, a decision per step with its evidence, and the series
(request counts per interval and cohort)."""

from __future__ import annotations

from pathlib import Path

from sentra_ml.store.db import make_engine, session_factory, upgrade
from sentra_ml.store.schema import Decision, Rollout, SeriesPoint, WeightChange

T0 = 1_800_000_000.0
METRICS = [
    {"name": "errors", "kind": "ratio", "tolerance": 0.2, "critical": True},
    {"name": "latency_ms", "kind": "latency", "tolerance": 0.2, "quantiles": [0.5, 0.99]},
]
SCHEDULE = ((0.0, 1.0), (60.0, 5.0), (100.0, 20.0), (140.0, 50.0), (200.0, 100.0))


def write_history(
    path: Path,
    service: str,
    *,
    promoted: int,
    rolled_back: int = 0,
    total_rps: float = 400.0,
    error_ratio: float = 0.01,
    p99_ms: float = 250.0,
    noisy_latency: bool = False,
) -> str:
    """Write the rollouts into the SQLite database at `path`; its URL."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        for k in range(promoted + rolled_back):
            healthy = k < promoted
            start = T0 + 1000.0 * k
            rid = f"{service}-{k}"
            end = start + (SCHEDULE[-1][0] if healthy else 80.0)
            session.add(
                Rollout(
                    id=rid, service=service, namespace="test", baseline_version="v1",
                    canary_version="v2", state="promoted" if healthy else "rolled_back",
                    weight=100.0 if healthy else 0.0,
                    spec={"service": service, "metrics": METRICS}, created_by="test",
                    created_at=start, updated_at=end,
                )
            )  # fmt: skip
            session.flush()
            steps = [(at, w) for at, w in SCHEDULE if start + at <= end]
            for at, weight in steps:
                session.add(
                    WeightChange(
                        rollout_id=rid, fence=1, ts=start + at, weight=weight,
                        status="applied", settled_at=start + at,
                    )
                )  # fmt: skip
                risk = 0.3 if noisy_latency else 0.0
                evidence = [
                    {"metric": "errors", "risk": 0.05},
                    {"metric": "latency_ms", "risk": risk},
                ]
                session.add(
                    Decision(
                        rollout_id=rid, ts=start + at, action="continue", risk=risk,
                        weight=weight, score=100.0, model_version="test",
                        verdict={"evidence": evidence},
                    )
                )  # fmt: skip
            t = start + 2.0
            while t < end:
                weight = max(w for at, w in steps if start + at < t)
                for cohort, share in (("canary", weight), ("baseline", 100.0 - weight)):
                    count = total_rps * 2.0 * share / 100.0
                    session.add(
                        SeriesPoint(
                            rollout_id=rid, ts=t, metric="errors", cohort=cohort,
                            value=error_ratio, count=count,
                        )
                    )  # fmt: skip
                session.add(
                    SeriesPoint(
                        rollout_id=rid, ts=t, metric="latency_ms", cohort="baseline",
                        value=p99_ms, count=100.0,
                    )
                )  # fmt: skip
                t += 2.0
    engine.dispose()
    return url
