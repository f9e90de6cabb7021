"""`sentra demo --real`: the scenarios on the real stack, a table, and JSON + PNG results."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from sentra_ml.realdemo.play import Played, play
from sentra_ml.realdemo.prometheus import SCRAPE_SECONDS
from sentra_ml.realdemo.report import Summary, summarize, to_json, write
from sentra_ml.realdemo.scenarios import (
    FULL,
    FULL_POLICY,
    INTERVAL_SECONDS,
    SHORT,
    SHORT_POLICY,
    Scenario,
)
from sentra_ml.realdemo.stack import stack

RATE = 100.0  # requests per second through the load balancer
SHORT_RATE = 200.0  # the short run has less time to see enough canary requests


def run_real(
    router: str,
    out: Path,
    *,
    short: bool = False,
    embedded: bool = False,
    only: tuple[str, ...] = (),
    console: Console | None = None,
) -> dict[str, Any]:
    """Play every scenario (or those named in `only`) behind `router`; the results document,
    also written to `out` as ``real-loop-<router>.json`` and ``.png``."""
    console = console or Console(stderr=True)
    scenarios: tuple[Scenario, ...] = SHORT if short else FULL
    if only:
        scenarios = tuple(s for s in scenarios if s.name in only)
    policy = SHORT_POLICY if short else FULL_POLICY
    rate = SHORT_RATE if short else RATE

    def log(message: str) -> None:
        console.print(f"[dim]{time.strftime('%H:%M:%S')}[/] {message}", highlight=False)

    played: list[Played] = []
    with (
        tempfile.TemporaryDirectory(prefix="sentra-real-") as tmp,
        stack(router, Path(tmp), rate, embedded=embedded) as s,
    ):
        log(f"up: {router} on :{s.front.port}, Prometheus, sentra serve on {s.bus}")
        for scenario in scenarios:
            played.append(play(s, scenario, policy, log))
        about = {
            "router": router, "short": short, "rate": rate, "store": s.bus,
            "scrape_seconds": SCRAPE_SECONDS, "interval_seconds": INTERVAL_SECONDS,
            "policy": policy,
        }  # fmt: skip
    summaries = [summarize(p, router) for p in played]
    document = to_json(summaries, played, about)
    paths = write(out, f"real-loop-{router}{'-short' if short else ''}", document, played)
    console.print(table(summaries, router))
    lat = document["latency_seconds"]
    if lat["n"]:
        log(
            f"telemetry-to-decision: p50 {lat['p50']:.2f} s, p99 {lat['p99']:.2f} s, "
            f"max {lat['max']:.2f} s over {lat['n']} weight changes"
        )
    log("written: " + ", ".join(str(p) for p in paths))
    return document


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def table(summaries: list[Summary], router: str) -> Table:
    t = Table(title=f"The real loop behind {router}")
    for name in ("scenario", "outcome", "onset→rollback s", "to promote s", "failed requests",
                 "beyond baseline", "canary failed", "weights", "latency p50 / p99 s"):  # fmt: skip
        t.add_column(name)
    for s in summaries:
        p50, p99 = s.latency_quantile(0.5), s.latency_quantile(0.99)
        t.add_row(
            s.scenario,
            f"{s.state} ({'as expected' if s.passed else 'expected ' + s.expected})",
            _seconds(s.seconds_onset_to_rollback),
            _seconds(s.seconds_to_promote),
            f"{s.failed} of {s.requests} ({100 * s.failed_share:.2f} %)",
            f"{100 * s.excess_failed_share:.2f} %",
            str(s.canary_failed),
            " → ".join(f"{w:g}" for w in s.weights),
            f"{_seconds(p50)} / {_seconds(p99)}",
        )
    return t
