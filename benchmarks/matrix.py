"""The scenario matrix (which runs, with which seeds) and running it on a process pool."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing import Pool

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from benchmarks.harness import Job, RunResult, run
from benchmarks.rules import INCUMBENTS, RULES, oracle_config
from sentra_ml.simulate import EnvironmentIncident, scenario_library

# saturation needs the canary past its knee weight (20 %): it cannot appear at a fixed 5 %
DETECTION_FAULTS = ("error_step", "latency_shift", "tail_latency", "slow_drift", "bursts")
CLOSED_FAULTS = (*DETECTION_FAULTS, "saturation")
AA_SHAPES = ("aa", "aa_heavy_tail", "aa_low_traffic", "aa_diurnal", "aa_buckets")
INCIDENT = "environment_incident"
SEED_BASE = {"A": 10_000, "B": 20_000, "C": 30_000, "D": 40_000}


@dataclass(frozen=True)
class MatrixConfig:
    """What to run. Seeds are `SEED_BASE[measurement] + i`, the same for every rule (paired)."""

    aa_runs: int = 500  # Sentra's A/A runs per shape
    runs: int = 100  # every other (measurement, scenario, rule) cell
    faults: tuple[str, ...] = DETECTION_FAULTS
    closed_faults: tuple[str, ...] = CLOSED_FAULTS
    aa_shapes: tuple[str, ...] = AA_SHAPES
    incident: bool = True
    horizon: float = 1800.0
    detection_weight: float = 5.0
    onset_range: tuple[float, float] = (30.0, 90.0)
    incident_onset: float = 60.0
    onset_seed: int = 2026

    def onset(self, fault: str, i: int) -> float:
        """Measurement A's onset of run i of `fault`, uniform in `onset_range`, deterministic."""
        rng = np.random.default_rng([self.onset_seed, zlib.crc32(fault.encode()), i])
        return float(rng.uniform(*self.onset_range))

    def incident_window(self) -> tuple[float, float]:
        """[onset, onset + duration]: the environment incident of measurement D."""
        fault = scenario_library()[INCIDENT].fault
        assert isinstance(fault, EnvironmentIncident)
        return self.incident_onset, self.incident_onset + fault.duration


def build_jobs(cfg: MatrixConfig) -> list[Job]:
    """Every run of the matrix, in a deterministic order."""
    jobs: list[Job] = []
    for fault in cfg.faults:
        for i in range(cfg.runs):
            onset = cfg.onset(fault, i)
            seed = SEED_BASE["A"] + i
            for rule in _rules(fault, with_hold=True):
                h = onset + cfg.horizon
                jobs.append(Job("A", rule, fault, seed, h, onset, cfg.detection_weight))
    for fault in cfg.closed_faults:
        for i in range(cfg.runs):
            for rule in _rules(fault):
                jobs.append(Job("B", rule, fault, SEED_BASE["B"] + i, cfg.horizon, 0.0))
    for shape in cfg.aa_shapes:
        for i in range(max(cfg.aa_runs, cfg.runs)):
            for rule in ("sentra", *INCUMBENTS):
                if i < (cfg.aa_runs if rule == "sentra" else cfg.runs):
                    jobs.append(Job("C", rule, shape, SEED_BASE["C"] + i, cfg.horizon))
    if cfg.incident:
        lo, hi = cfg.incident_window()
        for i in range(cfg.runs):
            for rule in ("sentra", *INCUMBENTS):
                seed = SEED_BASE["D"] + i
                # the run stops 60 s after the incident: rollbacks up to then count against it
                jobs.append(Job("D", rule, INCIDENT, seed, hi + 60.0, lo, None, (lo, hi)))
    return jobs


def _rules(scenario: str, with_hold: bool = False) -> tuple[str, ...]:
    """The rules of a fault scenario: the oracle only where the fault has one."""
    has_oracle = oracle_config(scenario_library()[scenario]) is not None
    skip = {"oracle"} if not has_oracle else set()
    return tuple(r for r in RULES if r not in skip and (with_hold or r != "sentra_hold"))


def _cost(job: Job) -> float:
    """A rough relative cost, to start the long runs first (better load balance)."""
    cost = 10.0 if job.rule.startswith("sentra") else 1.0
    if job.measurement == "C" and job.scenario == "aa_low_traffic":
        cost *= 8.0  # Sentra rarely promotes there: the run goes on to the horizon
    return cost


def _work(item: tuple[int, Job]) -> tuple[int, RunResult | None]:
    index, job = item
    return index, run(job)


def run_matrix(jobs: list[Job], workers: int, console: Console) -> list[RunResult]:
    """Run every job (on `workers` processes; 1 = in this process) with a progress bar.

    Results come back in the jobs' order whatever order the workers finish in.
    """
    order = sorted(range(len(jobs)), key=lambda k: -_cost(jobs[k]))
    items = [(k, jobs[k]) for k in order]
    results: list[RunResult | None] = [None] * len(jobs)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("scenario matrix", total=len(items))
        step = max(1, len(items) // 20)
        for done, (index, result) in enumerate(_results(items, workers), start=1):
            results[index] = result
            progress.advance(task)
            if not console.is_terminal and done % step == 0:  # a log file gets plain lines
                elapsed = progress.tasks[0].elapsed or 0.0
                console.print(f"{done}/{len(items)} runs, {elapsed:.0f} s", highlight=False)
    return [r for r in results if r is not None]


def _results(items: list[tuple[int, Job]], workers: int) -> Iterator[tuple[int, RunResult | None]]:
    if workers <= 1:
        yield from map(_work, items)
        return
    with Pool(workers) as pool:
        yield from pool.imap_unordered(_work, items, chunksize=1)
