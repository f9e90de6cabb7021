"""`sentra demo`: two simulated rollouts judged live on an accelerated clock, with an audit file.

A healthy canary walks the step schedule to promotion; a faulty one is rolled back. Nothing but
this process is needed: the simulator stands in for the service and its telemetry. On a terminal
each rollout is a live panel; elsewhere (a pipe, CI) each decision is a line, then the panel.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from sentra_ml.analysis.types.labels import Action, MetricStatus
from sentra_ml.analysis.types.verdict import Verdict
from sentra_ml.judge_session import JudgeSession
from sentra_ml.simulate import ErrorStep, LatencyShift, Scenario, Simulator, default_spec, total_rps
from sentra_ml.simulate.faults import Combined

_COLOURS = {
    Action.PROMOTE: "bold green",
    Action.CONTINUE: "cyan",
    Action.PAUSE: "yellow",
    Action.ROLLBACK: "bold red",
}
_STATUS = {
    MetricStatus.REGRESSION: "red",
    MetricStatus.SAFE: "green",
    MetricStatus.INCONCLUSIVE: "white",
    MetricStatus.NO_DATA: "dim",
    MetricStatus.STALE: "yellow",
    MetricStatus.ENVIRONMENT: "yellow",
}


@dataclass(frozen=True)
class DemoRollout:
    title: str
    scenario: Scenario
    seed: int


def demo_rollouts() -> list[DemoRollout]:
    rps = total_rps(20.0)
    bad = Combined((ErrorStep(20.0, 0.04), LatencyShift(20.0, 1.4)))
    return [
        DemoRollout("checkout v2.4.1 (healthy)", Scenario("healthy", rps), seed=1),
        DemoRollout(
            "checkout v2.5.0 (errors and latency up from t=20 s)",
            Scenario("faulty", rps, fault=bad, expected=Action.ROLLBACK),
            seed=2,
        ),
    ]


# One line at 80 columns: risk is the strongest regression evidence (1 = the rollback
# threshold), score the Kayenta-style share (- before any data), [ ] the effect's interval.
LEGEND = "risk: 1 = roll back · score: % metrics not regressed · [ ]: anytime-valid CI"


def _score(verdict: Verdict) -> str:
    return "  -" if verdict.score is None else f"{verdict.score:3.0f}"


def decision_line(title: str, t: float, verdict: Verdict, previous: float) -> str:
    """One decision as a plain line: when, what, the weight's move, and the judge's reason."""
    move = f"{previous:g} % -> {verdict.weight:g} %" if verdict.weight != previous else ""
    return (
        f"{title}: t={t:4.0f} s {verdict.action.upper():8} weight {verdict.weight:5.1f} % "
        f"risk {verdict.risk:4.2f} score {_score(verdict)}"
        + (f" ({move})" if move else "")
        + (f" | {verdict.reasons[-1]}" if verdict.reasons else "")
    )


def render(title: str, t: float, verdict: Verdict) -> Panel:
    """The live view of one rollout: weight, decision, per-metric effects and the reasons."""
    bar_width = 18  # the head fits one line of an 80-column panel
    filled = round(bar_width * verdict.weight / 100)
    head = Text.assemble(
        (f"t={t:5.0f} s  ", "dim"),
        ("weight ", ""),
        ("█" * filled + "░" * (bar_width - filled), "magenta"),
        (f" {verdict.weight:5.1f} %  ", "bold"),
        (f"{verdict.action.upper():9}", _COLOURS[verdict.action]),
        (f" risk {verdict.risk:4.2f}  score {_score(verdict)}", ""),
    )
    table = Table(expand=True, show_edge=False)
    table.add_column("metric")
    table.add_column("status")
    table.add_column("effect (canary vs baseline, anytime-valid interval)")
    table.add_column("risk", justify="right")
    for e in verdict.evidence:
        table.add_row(
            e.metric,
            Text(str(e.status), style=_STATUS[e.status]),
            e.summary.split(": ", 1)[-1],
            f"{e.risk:.2f}",
        )
    reasons = Text("\n".join(f"• {r}" for r in verdict.reasons), style="italic")
    legend = Text(LEGEND, style="dim")
    return Panel(
        Group(head, table, reasons, legend), title=title, border_style=_COLOURS[verdict.action]
    )


def play(
    rollout: DemoRollout,
    *,
    dt: float = 2.0,
    horizon: float = 600.0,
    on_tick: Callable[[float, Verdict], None],
) -> list[Verdict]:
    """Run one rollout in closed loop (the judge's weight is applied) until it is decided."""
    session = JudgeSession.starting(default_spec(service="checkout"), 0.0, interval=dt)
    sim = Simulator(rollout.scenario, seed=rollout.seed)
    t, weight, history = 0.0, session.judge.weight, []
    while t < horizon and not session.decided:
        for sample in sim.tick(t, dt, weight):
            session.observe(sample)
        t += dt
        verdict = session.evaluate(t)
        history.append(verdict)
        on_tick(t, verdict)
        weight = verdict.weight
    return history


def audit_records(title: str, history: list[Verdict]) -> list[dict[str, object]]:
    """The verdicts that changed something (action or weight), as the audit keeps them."""
    records: list[dict[str, object]] = []
    previous: tuple[Action, float] | None = None
    for v in history:
        key = (v.action, v.weight)
        if key != previous:
            records.append({"rollout": title, **v.to_dict()})
            previous = key
    return records


def _line_printer(console: Console, title: str) -> Callable[[float, Verdict], None]:
    """A line for each verdict that changes the action, the weight, or starts or ends a hold."""
    last: list[tuple[Action | None, float, bool]] = []

    def show(t: float, v: Verdict) -> None:
        previous = last[-1] if last else (None, v.current_weight, False)
        if (v.action, v.weight, v.hold) != previous:
            console.print(decision_line(title, t, v, previous[1]), highlight=False, soft_wrap=True)
            last.append((v.action, v.weight, v.hold))

    return show


def run_demo(console: Console, audit_path: Path, seconds_per_tick: float = 0.08) -> list[Verdict]:
    """Play the demo rollouts; returns each rollout's final verdict."""
    finals = []
    audit_path.parent.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, object]] = []
    for rollout in demo_rollouts():
        if console.is_terminal:
            with Live(console=console, refresh_per_second=20, transient=False) as live:

                def show(t: float, v: Verdict, title: str = rollout.title) -> None:
                    live.update(render(title, t, v))
                    time.sleep(seconds_per_tick)

                history = play(rollout, on_tick=show)
        else:
            history = play(rollout, on_tick=_line_printer(console, rollout.title))
            console.print(render(rollout.title, history[-1].ts, history[-1]))
        console.print()
        finals.append(history[-1])
        records.extend(audit_records(rollout.title, history))
    tmp = audit_path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r, allow_nan=False) + "\n" for r in records))
    tmp.replace(audit_path)
    return finals
