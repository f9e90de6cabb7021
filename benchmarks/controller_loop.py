"""The controller in the closed loop: adaptive steps against a fixed schedule, and what
predictive rollback costs and buys.

    .venv/bin/python benchmarks/controller_loop.py [--runs 20] [--workers 2] [--out DIR]

Each run is one rollout driven by the real controller (leases, ledger, audit on SQLite) through a
simulated router and source: the simulator serves the split the router applied. Same seeds for
every rule. Rules:
  sentra       Sentra's default policy: steps 1/2/5/10/20/50/100, adaptive, exposure gate;
  fixed        10/20/50/100, one step a minute unless the judge holds or rolls back
               (Flagger's shape, guarded by Sentra's own tests);
  predictive   sentra plus `predictive_rollback: 0.9`.
Reports time to 100 % on healthy canaries, excess failed requests and rollbacks on faulty ones,
false rollbacks on A/A shapes, and the slow leaks stopped before promotion.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass
from multiprocessing import Pool
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.progress import track  # noqa: E402
from sentra_controller.controller import Controller  # noqa: E402
from sentra_controller.metrics import ControllerMetrics  # noqa: E402

from benchmarks import sim_backends  # noqa: E402
from benchmarks.plot import grouped_bars  # noqa: E402
from sentra_ml.simulate import Scenario, scenario_library  # noqa: E402
from sentra_ml.simulate.service import CPU, ERRORS, LATENCY, MEMORY  # noqa: E402
from sentra_ml.store import audit  # noqa: E402
from sentra_ml.store.bus import InProcessBus  # noqa: E402
from sentra_ml.store.db import make_engine, session_factory, upgrade  # noqa: E402
from sentra_ml.store.schema import Rollout  # noqa: E402

T0 = 1_800_000_000.0
HORIZON = 1800.0
SCENARIOS = ("aa", "aa_diurnal", "aa_heavy_tail", "error_step", "slow_drift")
METRICS: list[dict[str, Any]] = [
    {
        "name": ERRORS,
        "kind": "ratio",
        "tolerance": 0.2,
        "critical": True,
        "slo": {"objective": 0.05},
    },
    {"name": LATENCY, "kind": "latency", "tolerance": 0.2, "quantiles": [0.5, 0.99]},
    {"name": CPU, "kind": "gauge", "tolerance": 0.25},
    {"name": MEMORY, "kind": "gauge", "tolerance": 0.25},
]
POLICIES: dict[str, dict[str, Any]] = {
    "sentra": {},
    "fixed": {"steps": [10, 20, 50, 100], "adaptive": False, "min_step_seconds": 60,
              "harm_budget": 1e9},
    "predictive": {"predictive_rollback": 0.9},
}  # fmt: skip


@dataclass(frozen=True)
class Result:
    rule: str
    scenario: str
    seed: int
    state: str
    ended_at: float  # s after the start; inf when nothing ended by the horizon
    excess_failed: float
    canary_requests: int
    predicted: bool  # the rollback said "before the breach"


_sessions: Any = None


def _db() -> Any:
    global _sessions
    if _sessions is None:
        engine = make_engine(f"sqlite:///{Path(tempfile.mkdtemp()) / 'loop.db'}")
        upgrade(engine)
        _sessions = session_factory(engine)
    return _sessions


def simulated_rollout(
    sessions: Any, scenario: Scenario, seed: int, world_id: str, spec: dict[str, Any]
) -> tuple[str, sim_backends.SimWorld]:
    """A rollout of `spec` created at `T0`, routed and observed through a simulated world of
    `scenario` registered as `world_id`: the rollout's id and the world."""
    world = sim_backends.SimWorld(scenario, seed, T0)
    sim_backends.WORLDS[world_id] = world
    with sessions() as session:
        row = audit.create_rollout(
            session=session, service=spec["service"], namespace="bench", baseline_version="v1",
            canary_version="v2", spec=spec, weight=1.0, target={"kind": "sim", "world": world_id},
            source={"kind": "sim", "world": world_id}, actor="bench", now=T0,
        )  # fmt: skip
        session.commit()
        return row.id, world


def sim_controller(sessions: Any, learners: Any) -> Controller:
    """The real controller, judging every 2 s, with the simulated routers and sources."""
    routers, sources = sim_backends.registries()
    return Controller(
        sessions=sessions, bus=InProcessBus(), interval=2.0, learners=learners,
        metrics=ControllerMetrics(), routers=routers, sources=sources,
    )  # fmt: skip


def tick_until_done(
    controller: Controller, sessions: Any, rollout_id: str, horizon: float
) -> tuple[str, float, list[dict[str, Any] | None]]:
    """Ticks `controller` on the rollout every simulated `DT` from `T0` until it is promoted or
    rolled back or `horizon` seconds pass: its last state, the seconds it took (inf if it never
    ended) and what every tick returned."""
    t, state, ticks = T0, "pending", []
    while t < T0 + horizon:
        t += sim_backends.DT
        with sessions() as session:
            current = session.get(Rollout, rollout_id)
            assert current is not None
            state = current.state
        if state in ("promoted", "rolled_back"):
            break
        ticks.append(controller.tick(current, t))
    ended = t - T0 if state in ("promoted", "rolled_back") else math.inf
    return state, ended, ticks


def run(job: tuple[str, str, int]) -> Result:
    rule, scenario_name, seed = job
    sessions = _db()
    scenario = scenario_library()[scenario_name]
    world_id = uuid.uuid4().hex
    spec = {"service": f"loop-{world_id}", "metrics": METRICS, "policy": POLICIES[rule]}
    rid, world = simulated_rollout(sessions, scenario, seed, world_id, spec)
    controller = sim_controller(sessions, learners=None)
    state, ended, ticks = tick_until_done(controller, sessions, rid, HORIZON)
    controller.close()
    del sim_backends.WORLDS[world_id]
    verdict = ticks[-1] if ticks else None
    reasons = [] if verdict is None else verdict["reasons"]
    return Result(
        rule, scenario_name, seed, state, ended, float(world.sim.excess_failed),
        int(world.sim.canary_requests), any("before the breach" in r for r in reasons),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results")
    args = parser.parse_args()
    jobs = [(r, s, 70_000 + i) for s in SCENARIOS for r in POLICIES for i in range(args.runs)]
    console = Console()
    cells: dict[tuple[str, str], list[Result]] = defaultdict(list)
    with Pool(args.workers) as pool:
        for result in track(pool.imap_unordered(run, jobs), total=len(jobs), console=console):
            cells[(result.scenario, result.rule)].append(result)
    heads = ["scenario", "rule", "runs", "promoted", "rolled back", "median s to end",
             "mean excess failed"]  # fmt: skip
    lines = ["| " + " | ".join(heads) + " |", "|---|---|--:|--:|--:|--:|--:|"]
    rows = []
    for scenario in SCENARIOS:
        for rule in POLICIES:
            rs = cells[(scenario, rule)]
            ended = [r.ended_at for r in rs if math.isfinite(r.ended_at)]
            row = {
                "scenario": scenario, "rule": rule, "runs": len(rs),
                "promoted": sum(r.state == "promoted" for r in rs) / len(rs),
                "rolled_back": sum(r.state == "rolled_back" for r in rs) / len(rs),
                "median_end_s": statistics.median(ended) if ended else None,
                "excess_failed": statistics.fmean(r.excess_failed for r in rs),
                "predicted": sum(r.predicted for r in rs),
            }  # fmt: skip
            rows.append(row)
            median = "" if row["median_end_s"] is None else f"{row['median_end_s']:.0f}"
            lines.append(
                f"| {scenario} | {rule} | {len(rs)} | {row['promoted']:.0%} | "
                f"{row['rolled_back']:.0%} | {median} | {row['excess_failed']:.1f} |"
            )
    table = "\n".join(lines)
    console.print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/controller_loop.py " + " ".join(sys.argv[1:])
    (args.out / "controller_loop.md").write_text(
        f"# The controller in the closed loop\n\n`{command.strip()}`\n\n{table}\n"
    )
    (args.out / "controller_loop.json").write_text(
        json.dumps({"rows": rows, "runs": [asdict(r) for c in cells.values() for r in c]}, indent=1)
    )
    grouped_bars(
        rows, SCENARIOS, tuple(POLICIES),
        [("rolled_back", "share of runs rolled back"), ("median_end_s", "median s to the end")],
        args.out / "controller_loop.png",
    )  # fmt: skip


if __name__ == "__main__":
    main()
