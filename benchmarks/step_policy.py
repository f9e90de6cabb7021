"""Self-tuning canaries: a service's step policy learned from its past rollouts, against the
default, on simulated services with a history.

    .venv/bin/python benchmarks/step_policy.py [--history 8] [--runs 10] [--workers 2] [--out DIR]

For each simulated service (its traffic level), with the real controller (leases, ledger, audit
on SQLite) through the simulated router and source of `controller_loop`:
1. history: `--history` past rollouts under the default policy (the last quarter faulty);
2. training: the policy `sentra train` learns from that audit database (`learn_policy`), logged
   and registered in a local MLflow store and published at `production`;
3. new rollouts, same seeds for both arms: the default policy, and the published model's policy
   loaded by the controller through `PublishedLearnerStore` as in production. Both arms start
   from the same untrained service learner, so only the step policy differs.
Reports time to promote for healthy canaries, and for faulty ones whether they were caught and
how many requests failed beyond the baseline's rate; deterministic for `--seed`.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
from collections import defaultdict
from dataclasses import asdict, dataclass
from multiprocessing import Pool
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import track  # noqa: E402
from sentra_training.fit import TrainedModel  # noqa: E402
from sentra_training.registry import log_training, set_alias  # noqa: E402
from sentra_training.rollout_history import past_rollouts  # noqa: E402
from sentra_training.step_policy import LearnedPolicy, PolicyOptions, learn_policy, with_policy  # noqa: E402

from benchmarks import sim_backends  # noqa: E402
from benchmarks.controller_loop import (  # noqa: E402
    METRICS,
    sim_controller,
    simulated_rollout,
    tick_until_done,
)
from benchmarks.plot import grouped_bars  # noqa: E402
from sentra_ml.analysis.judge.normal import service_learner  # noqa: E402
from sentra_ml.simulate import scenario_library  # noqa: E402
from sentra_ml.store.db import make_engine, session_factory, upgrade  # noqa: E402
from sentra_ml.store.learners import FileLearnerStore  # noqa: E402
from sentra_ml.store.model_bundle import ServiceModel  # noqa: E402
from sentra_ml.store.model_loader import ModelLoader, PublishedLearnerStore  # noqa: E402

HORIZON = 1200.0
SERVICES = {"low": 5.0, "mid": 20.0, "high": 100.0}  # canary requests/s at 5 % (x20: total)
SCENARIOS = ("aa", "aa_heavy_tail", "error_at_start", "error_step", "latency_shift")
FAULTS = SCENARIOS[2:]  # error_at_start: error_step with its onset at the rollout's start
ARMS = ("default", "learned")


@dataclass(frozen=True)
class Job:
    service: str  # a key of SERVICES
    scenario: str
    seed: int
    arm: str  # "history" (writes the audit database), "default" or "learned"
    db: str  # the audit database's URL
    registry: str = ""  # the MLflow URI ("": no registry)


@dataclass(frozen=True)
class Result:
    service: str
    scenario: str
    seed: int
    arm: str
    state: str
    ended_at: float  # s after the start; inf when nothing ended by the horizon
    excess_failed: float
    canary_requests: int
    model: str


def run(job: Job) -> Result:
    """One rollout through the real controller; the audit database keeps its records."""
    sessions = session_factory(make_engine(job.db))
    onset = 0.0 if job.scenario == "error_at_start" else 60.0
    kind = "error_step" if job.scenario == "error_at_start" else job.scenario
    scenario = scenario_library(canary_rps=SERVICES[job.service], onset=onset)[kind]
    world_id = f"{job.service}-{job.arm}-{job.scenario}-{job.seed}"
    name = f"svc-{job.service}" if job.arm != "default" else f"svc-{job.service}-default"
    rid, world = simulated_rollout(
        sessions, scenario, job.seed, world_id, {"service": name, "metrics": METRICS}
    )
    with tempfile.TemporaryDirectory(prefix="sentra-learners-") as folder:
        learners: Any = None
        if job.arm != "history":  # a fresh learner each run: runs stay independent
            learners = PublishedLearnerStore(
                FileLearnerStore(Path(folder)), ModelLoader(job.registry, poll_seconds=0)
            )
        controller = sim_controller(sessions, learners)
        state, ended, ticks = tick_until_done(controller, sessions, rid, HORIZON)
        model = next((str(v["model"]) for v in reversed(ticks) if v and "model" in v), "")
        controller.close()
    del sim_backends.WORLDS[world_id]
    return Result(
        job.service, job.scenario, job.seed, job.arm, state, ended,
        float(world.sim.excess_failed), int(world.sim.canary_requests), model,
    )  # fmt: skip


def publish(service: str, learned: LearnedPolicy, registry: str, artifacts: str) -> int:
    """Register a model of `service` holding the learned policy (and the untrained learner
    both arms start from) and point `production` at it; its version."""
    blank = ServiceModel(service, service_learner().to_bytes(), {"metrics": {}})
    empty = np.zeros(0)
    trained = TrainedModel(blank, {}, {"service": service}, empty, empty, empty.astype(bool), 0)
    _, version = log_training(registry, with_policy(trained, learned), [], artifacts)
    set_alias(registry, service, version, "production")
    return version


def learn(args: tuple[str, str, int, int]) -> tuple[str, LearnedPolicy]:
    service, db, runs, seed = args
    with session_factory(make_engine(db))() as session:
        past = past_rollouts(session=session, service=f"svc-{service}")
    return service, learn_policy(past, PolicyOptions(runs=runs, seed=seed))


def _cell(rs: list[Result]) -> dict[str, Any]:
    ended = [r.ended_at for r in rs if math.isfinite(r.ended_at)]
    return {
        "runs": len(rs),
        "promoted": sum(r.state == "promoted" for r in rs) / len(rs),
        "rolled_back": sum(r.state == "rolled_back" for r in rs) / len(rs),
        "median_end_s": statistics.median(ended) if ended else None,
        "excess_failed": statistics.fmean(r.excess_failed for r in rs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--history", type=int, default=8, help="past rollouts per service")
    parser.add_argument("--runs", type=int, default=10, help="new rollouts per cell")
    parser.add_argument("--policy-runs", type=int, default=5, help="as `sentra train`'s")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results")
    args = parser.parse_args()
    console = Console()
    work = Path(tempfile.mkdtemp(prefix="sentra-step-policy-"))
    db = f"sqlite:///{work / 'audit.db'}"
    upgrade(make_engine(db))
    registry = f"sqlite:///{work / 'mlflow.db'}"
    faulty_from = args.history - max(1, args.history // 4)
    history = [
        Job(s, "aa" if i < faulty_from else "error_step", args.seed * 1000 + i, "history", db)
        for s in SERVICES
        for i in range(args.history)
    ]
    with Pool(args.workers) as pool:
        past = list(track(pool.imap(run, history), total=len(history), description="history"))
        learned = dict(
            track(
                pool.imap(learn, [(s, db, args.policy_runs, args.seed) for s in SERVICES]),
                total=len(SERVICES), description="training",
            )
        )  # fmt: skip
        for service, policy in learned.items():
            publish(f"svc-{service}", policy, registry, (work / "mlartifacts").as_uri())
        jobs = [
            Job(s, sc, 90_000 + args.seed * 1000 + i, arm, db, registry)
            for s in SERVICES for sc in SCENARIOS for arm in ARMS for i in range(args.runs)
        ]  # fmt: skip
        cells: dict[tuple[str, str, str], list[Result]] = defaultdict(list)
        for r in track(pool.imap_unordered(run, jobs), total=len(jobs), description="rollouts"):
            cells[(r.service, r.scenario, r.arm)].append(r)
    report(args, past, learned, cells, console)


def report(
    args: argparse.Namespace,
    past: list[Result],
    learned: dict[str, LearnedPolicy],
    cells: dict[tuple[str, str, str], list[Result]],
    console: Console,
) -> None:
    policies = [
        "| service | total req/s | past rollouts (promoted) | learned steps (%) | hold s |"
        " simulated healthy s: default -> learned |",
        "|---|--:|--:|---|--:|---|",
    ]
    for s, p in learned.items():
        steps = "/".join(f"{w:g}" for w in p.fields["steps"])
        policies.append(
            f"| {s} | {p.profile.total_rps:.0f} | {p.profile.rollouts} ({p.profile.promoted}) | "
            f"{steps} | {p.fields['min_step_seconds']:g} | "
            f"{p.today.promote_seconds:.0f} -> {p.learned.promote_seconds:.0f} |"
        )
    heads = ["service", "scenario", "arm", "runs", "promoted", "rolled back", "median s to end",
             "mean excess failed"]  # fmt: skip
    lines = ["| " + " | ".join(heads) + " |", "|---|---|---|--:|--:|--:|--:|--:|"]
    rows = []
    totals = ["| service | arm | faulty runs | caught | excess failed, all faults |",
              "|---|---|--:|--:|--:|"]  # fmt: skip
    for s in SERVICES:
        for arm in ARMS:
            faulty = [r for sc in FAULTS for r in cells[(s, sc, arm)]]
            caught = sum(r.state == "rolled_back" for r in faulty)
            excess = sum(r.excess_failed for r in faulty)
            totals.append(f"| {s} | {arm} | {len(faulty)} | {caught} | {excess:.1f} |")
    for s in SERVICES:
        for sc in SCENARIOS:
            for arm in ARMS:
                row = {"service": s, "scenario": sc, "arm": arm, **_cell(cells[(s, sc, arm)])}
                rows.append(row)
                median = "" if row["median_end_s"] is None else f"{row['median_end_s']:.0f}"
                lines.append(
                    f"| {s} | {sc} | {arm} | {row['runs']} | {row['promoted']:.0%} | "
                    f"{row['rolled_back']:.0%} | {median} | {row['excess_failed']:.1f} |"
                )
    table, learned_table, total_table = "\n".join(lines), "\n".join(policies), "\n".join(totals)
    console.print(learned_table)
    console.print(table)
    console.print(total_table)
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/step_policy.py " + " ".join(sys.argv[1:])
    (args.out / "step_policy.md").write_text(
        f"# Self-tuning canaries: learned step policy against the default\n\n"
        f"`{command.strip()}`\n\n## What was learned\n\n{learned_table}\n\n"
        f"## New rollouts through the controller\n\n{table}\n\n"
        f"## Faulty rollouts, all fault kinds together\n\n{total_table}\n"
    )
    (args.out / "step_policy.json").write_text(
        json.dumps(
            {
                "learned": {s: p.card() for s, p in learned.items()},
                "rows": rows,
                "history": [asdict(r) for r in past],
                "runs": [asdict(r) for c in cells.values() for r in c],
            },
            indent=1,
            default=lambda x: None,
        )
    )
    groups = [f"{s}/{sc}" for s in SERVICES for sc in SCENARIOS]
    keyed = [{**r, "scenario": f"{r['service']}/{r['scenario']}", "rule": r["arm"]} for r in rows]
    grouped_bars(
        keyed, tuple(groups), ARMS,
        [("median_end_s", "median s to the end"), ("excess_failed", "mean excess failed")],
        args.out / "step_policy.png",
    )  # fmt: skip


if __name__ == "__main__":
    main()
