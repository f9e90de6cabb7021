"""From run results to the numbers of each measurement, the ratios to Sentra and the targets."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import beta

from benchmarks.harness import RunResult
from benchmarks.rules import RULES

ALPHA = 0.01  # the false-rollback budget of `default_spec`
Row = dict[str, float | int | str]
Summary = dict[str, list[Row]]


def quantile(xs: Iterable[float], q: float) -> float:
    """The q-quantile (linear), with inf values allowed (a quantile that touches one is inf)."""
    arr = np.asarray(list(xs), dtype=np.float64)
    if arr.size == 0:
        return math.nan
    big = 1e18
    value = float(np.quantile(np.where(np.isinf(arr), big, arr), q))
    return math.inf if value >= big / 10 else value


def cp_upper(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper confidence bound of a binomial proportion k / n."""
    if n == 0:
        return math.nan
    return 1.0 if k >= n else float(beta.ppf(confidence, k + 1, n - k))


def _groups(
    results: Iterable[RunResult], measurement: str
) -> dict[tuple[str, str], list[RunResult]]:
    out: dict[tuple[str, str], list[RunResult]] = defaultdict(list)
    for r in results:
        if r.measurement == measurement:
            out[(r.scenario, r.rule)].append(r)
    rank = {rule: i for i, rule in enumerate(RULES)}
    return dict(sorted(out.items(), key=lambda kv: (kv[0][0], rank.get(kv[0][1], 99))))


def detection(results: Sequence[RunResult], order: Sequence[str]) -> list[Row]:
    """A: delay = rollback time - onset (inf when missed); promotions end a run undetected."""
    rows: list[Row] = []
    for (fault, rule), runs in _groups(results, "A").items():
        delays = [r.delay for r in runs]
        rows.append({
            "fault": fault, "rule": rule, "runs": len(runs),
            "detected": sum(math.isfinite(d) for d in delays) / len(runs),
            "median_delay_s": quantile(delays, 0.5),
            "p90_delay_s": quantile(delays, 0.9),
            "rollbacks_before_onset": sum(r.rolled_back and r.decided_at < r.onset for r in runs),
            "promoted": sum(r.promoted for r in runs),
            "undecided": sum(not (r.rolled_back or r.promoted) for r in runs),
        })  # fmt: skip
    return _ordered(rows, "fault", order)


def bad_release(results: Sequence[RunResult], order: Sequence[str]) -> list[Row]:
    """B: how much harm a bad canary does before the rule acts, and whether it acts at all."""
    rows: list[Row] = []
    for (fault, rule), runs in _groups(results, "B").items():
        n = len(runs)
        rolled = [r.decided_at for r in runs if r.rolled_back]
        rows.append({
            "fault": fault, "rule": rule, "runs": n,
            "rolled_back": len(rolled) / n,
            "promoted": sum(r.promoted for r in runs) / n,
            "undecided": sum(not (r.rolled_back or r.promoted) for r in runs) / n,
            "median_time_to_rollback_s": quantile(rolled, 0.5),
            "median_excess_failed": quantile([r.excess_failed for r in runs], 0.5),
            "p90_excess_failed": quantile([r.excess_failed for r in runs], 0.9),
            "median_canary_requests": quantile([r.canary_requests for r in runs], 0.5),
        })  # fmt: skip
    return _ordered(rows, "fault", order)


def aa(results: Sequence[RunResult], order: Sequence[str]) -> list[Row]:
    """C: false rollbacks (with a one-sided 95 % Clopper-Pearson bound) and time to promotion."""
    rows: list[Row] = []
    for (shape, rule), runs in _groups(results, "C").items():
        n, k = len(runs), sum(r.rolled_back for r in runs)
        promoted = [r.decided_at for r in runs if r.promoted]
        rows.append({
            "shape": shape, "rule": rule, "runs": n,
            "false_rollbacks": k,
            "false_rollback_rate": k / n,
            "false_rollback_upper95": cp_upper(k, n),
            "promoted": len(promoted) / n,
            "median_time_to_promotion_s": quantile(promoted, 0.5),
            "paused": sum(r.paused for r in runs) / n,
        })  # fmt: skip
    return _ordered(rows, "shape", order)


def incident(results: Sequence[RunResult], window: tuple[float, float]) -> list[Row]:
    """D: no rollback during [onset, end of incident + 60 s]; PAUSE during the incident."""
    lo, hi = window
    rows: list[Row] = []
    for (_, rule), runs in _groups(results, "D").items():
        n = len(runs)
        in_window = [r.rolled_back and lo <= r.decided_at <= hi + 60.0 for r in runs]
        rows.append({
            "rule": rule, "runs": n,
            "no_rollback": 1.0 - sum(in_window) / n,
            "rolled_back_in_window": sum(in_window) / n,
            "paused_during_incident": sum(r.paused for r in runs) / n,
            "decided_before_onset": sum(r.decided_at < lo for r in runs),
            "promoted_by_end": sum(r.promoted for r in runs),
        })  # fmt: skip
    return rows


def _ordered(rows: list[Row], key: str, order: Sequence[str]) -> list[Row]:
    rank = {name: i for i, name in enumerate(order)}
    return sorted(rows, key=lambda r: rank.get(str(r[key]), 99))  # stable: rules keep order


def ratio(a: float, b: float) -> float:
    """a / b with the conventions of a delay: missed/finite = inf, both missed = nan."""
    if math.isinf(a) and math.isinf(b):
        return math.nan
    if b == 0:
        return math.nan if a == 0 else math.inf
    return a / b


def ratios(summary: Summary) -> list[Row]:
    """rule / sentra of the headline number of A (median delay), B (median time to rollback,
    median excess failures) and C (median time to promotion), per scenario."""
    specs = (
        ("A", "fault", "median_delay_s", "median detection delay"),
        ("B", "fault", "median_time_to_rollback_s", "median time to rollback"),
        ("B", "fault", "median_excess_failed", "median excess failed requests"),
        ("C", "shape", "median_time_to_promotion_s", "median time to promotion"),
    )
    out: list[Row] = []
    for m, key, column, label in specs:
        cell = {(str(r[key]), str(r["rule"])): float(r[column]) for r in summary[m]}
        for scenario in dict.fromkeys(str(r[key]) for r in summary[m]):
            sentra = cell.get((scenario, "sentra"), math.nan)
            row: Row = {"measurement": m, "quantity": label, "scenario": scenario}
            for rule in RULES[1:]:
                if (scenario, rule) in cell:
                    row[rule] = ratio(cell[(scenario, rule)], sentra)
            out.append(row)
    return out


@dataclass(frozen=True)
class Target:
    name: str
    status: str  # PASS, FAIL or N/A
    value: str


def targets(summary: Summary, min_aa_runs: int = 500) -> list[Target]:
    """The project's stated targets, each with the number behind it. Nothing here is tuned."""
    out = []
    for row in (r for r in summary["C"] if r["rule"] == "sentra"):
        n, rate, up = (
            int(row["runs"]),
            float(row["false_rollback_rate"]),
            float(row["false_rollback_upper95"]),
        )
        ok = rate <= ALPHA and n >= min_aa_runs
        out.append(Target(
            f"A/A false rollbacks <= 1 % over >= {min_aa_runs} runs ({row['shape']})",
            "PASS" if ok else "FAIL",
            f"{row['false_rollbacks']}/{n} = {rate:.2%} (95 % upper bound {up:.2%})",
        ))  # fmt: skip
    delay = {(str(r["fault"]), str(r["rule"])): float(r["median_delay_s"]) for r in summary["A"]}
    faults = list(dict.fromkeys(f for f, _ in delay))
    if ("error_step", "sentra") in delay:
        s = delay[("error_step", "sentra")]
        out.append(Target(
            "error ratio 1 % -> 3 % at 20 canary req/s detected in <= 15 s (median)",
            "PASS" if s <= 15.0 else "FAIL", f"{s:.1f} s",
        ))  # fmt: skip
    for rule, factor in (("flagger", 10.0), ("kayenta", 50.0), ("oracle", 0.5)):
        for fault in faults:
            if (fault, rule) not in delay or (fault, "sentra") not in delay:
                continue
            x = ratio(delay[(fault, rule)], delay[(fault, "sentra")])
            if rule == "oracle":
                name = f"within 2x of the oracle's median delay ({fault})"
                shown = f"sentra/oracle = {1 / x:.2f}x" if x > 0 else "sentra missed"
            else:
                name = f">= {factor:g}x faster than {rule} (median delay, {fault})"
                shown = f"{rule}/sentra = " + ("∞ (rule missed)" if math.isinf(x) else f"{x:.2f}x")
            status = "N/A" if math.isnan(x) else ("PASS" if x >= factor else "FAIL")
            out.append(Target(name, status, "both missed" if math.isnan(x) else shown))
    return out


def summarise(
    results: Sequence[RunResult], window: tuple[float, float], order: Sequence[str]
) -> Summary:
    """All four measurements; `order` lists scenario names in the order tables show them."""
    return {
        "A": detection(results, order),
        "B": bad_release(results, order),
        "C": aa(results, order),
        "D": incident(results, window),
    }
