"""What a rollout looks like to a person: a panel like `kubectl argo rollouts get rollout`, a
line per change for logs, and the table of `list`. `RolloutView` folds the stream's messages."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

STATES = {  # symbol and style of each state
    "pending": ("…", "cyan"),
    "running": ("◌", "cyan"),
    "paused": ("॥", "yellow"),
    "promoting": ("↻", "green"),
    "promoted": ("✔", "bold green"),
    "rolling_back": ("↻", "red"),
    "rolled_back": ("✖", "bold red"),
    "aborted": ("✖", "bold red"),
    "failed": ("⚠", "bold red"),
}
METRIC_STYLES = {
    "regression": "bold red",
    "safe": "green",
    "inconclusive": "yellow",
    "no_data": "dim",
    "stale": "yellow",
    "environment": "magenta",
}
RECENT = 5  # changes kept under the panel


@dataclass
class RolloutView:
    """A rollout as its messages leave it: the rollout, its latest verdict, recent changes."""

    rollout: dict[str, Any]
    verdict: dict[str, Any] | None = None
    recent: list[str] = field(default_factory=list)
    _told: tuple[Any, ...] | None = None  # the last verdict said as a line: its action, statuses

    @classmethod
    def of(cls, snapshot: dict[str, Any]) -> RolloutView:
        """From a `follow` snapshot (a rollout with its `verdict`)."""
        view = cls({})
        view.apply(snapshot)
        return view

    @property
    def state(self) -> str:
        return str(self.rollout.get("state", "?"))

    def apply(self, message: dict[str, Any]) -> str | None:
        """Fold one message in; a line saying what changed, or None for nothing new (a verdict
        is news when its action or a metric's status changes)."""
        kind = message.get("type")
        if kind == "rollout":
            self.rollout = {k: v for k, v in message.items() if k not in ("type", "verdict")}
            self.verdict = message.get("verdict")
            self._told = _gist(self.verdict)
            line = f"{self.state}, weight {_pct(self.rollout.get('weight'))}"
            return f"rollout {self.rollout.get('id')}: {line}"
        if kind == "verdict":
            self.verdict = message
            self.rollout["weight"] = message.get("weight", self.rollout.get("weight"))
            if _gist(message) == self._told:
                return None  # a verdict a second: only a new action or status is news
            self._told = _gist(message)
            line = verdict_line(message)
        elif kind == "weight":
            self.rollout["weight"] = message.get("weight")
            line = f"weight {_pct(message.get('previous_weight'))} → {_pct(message.get('weight'))}"
        elif kind == "state":
            previous = message.get("previous_state") or self.state
            self.rollout["state"] = message.get("state")
            why = f": {message['reason']}" if message.get("reason") else ""
            line = f"state {previous} → {self.state} by {message.get('actor', '?')}{why}"
        elif kind == "traces":
            line = f"traces: {message.get('reason', '')}"
        elif kind in ("tick", "deadline"):
            return None
        else:
            line = f"{kind}: {json.dumps(message)[:200]}"
        stamped = f"{_clock(message.get('ts'))} {line}"
        self.recent = [*self.recent, stamped][-RECENT:]
        return stamped

    def render(self, now: float | None = None) -> RenderableType:
        """The panel: who and where, state and weight, each metric, the latest reasons."""
        now = time.time() if now is None else now
        r, v = self.rollout, self.verdict
        symbol, style = STATES.get(self.state, ("?", ""))
        head = Table.grid(padding=(0, 2))
        head.add_column(style="bold")
        head.add_column()
        head.add_row("Name:", str(r.get("id", "")))
        head.add_row("Service:", f"{r.get('service')}  (namespace {r.get('namespace')})")
        head.add_row("Versions:", f"{r.get('baseline_version')} (baseline) → "
                     f"{r.get('canary_version')} (canary)")  # fmt: skip
        head.add_row("Status:", Text(f"{symbol} {self.state}", style=style))
        weight = f"{_pct(r.get('weight'))} canary"
        if v is not None and v.get("proposed_weight") not in (None, v.get("weight")):
            weight += f"  (the judge proposes {_pct(v.get('proposed_weight'))})"
        head.add_row("Weight:", weight)
        parts: list[RenderableType] = [head]
        if v is None:
            head.add_row("Verdict:", Text("waiting for the first evaluation", style="dim"))
        else:
            age = f", {max(0.0, now - float(v['ts'])):.0f} s ago" if v.get("ts") else ""
            head.add_row("Verdict:", f"{_summary(v)}{age}")
            parts += [Text(""), metrics_table(v.get("evidence") or [])]
            reasons = [f" • {reason}" for reason in (v.get("reasons") or [])[:4]]
            if reasons:
                parts += [Text(""), Text("Reasons", style="bold"), Text("\n".join(reasons))]
        if self.recent:
            parts += [Text(""), Text("Recent", style="bold"), Text("\n".join(self.recent))]
        return Group(*parts)


def metrics_table(evidence: list[dict[str, Any]]) -> Table:
    """Each metric's status, its effect (canary vs baseline, with its interval) and risk."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("METRIC", "STATUS", "EFFECT (interval)", "RISK", "SUMMARY"):
        table.add_column(column, no_wrap=column != "SUMMARY")
    for e in evidence:
        status = str(e.get("status", "?"))
        table.add_row(
            str(e.get("metric", "?")),
            Text(status, style=METRIC_STYLES.get(status, "")),
            effect_text(e.get("effect")),
            _number(e.get("risk")),
            str(e.get("summary", "")),
        )
    return table


def effect_text(effect: dict[str, Any] | None) -> str:
    """A relative effect as a signed percentage with its interval; an open end is ±∞.

    >>> effect_text({"estimate": 0.38, "low": 0.1, "high": None})
    '+38.0 % [+10.0 %, +∞]'
    >>> effect_text(None)
    '–'
    """
    if not effect:
        return "–"

    def signed(x: Any, infinite: str) -> str:
        return infinite if x is None else f"{100 * float(x):+.1f} %"

    estimate = signed(effect.get("estimate"), "?")
    return f"{estimate} [{signed(effect.get('low'), '-∞')}, {signed(effect.get('high'), '+∞')}]"


def verdict_line(v: dict[str, Any]) -> str:
    """A verdict in one line: action, numbers, each metric's status, the first reason."""
    metrics = ", ".join(
        f"{e.get('metric')} {e.get('status')}"
        + (f" {effect_text(e['effect']).split(' [')[0]}" if e.get("effect") else "")
        for e in v.get("evidence") or []
    )
    reasons = v.get("reasons") or []
    return (
        f"verdict {_summary(v)}, weight {_pct(v.get('weight'))}"
        + (f"; {metrics}" if metrics else "")
        + (f"; {reasons[0]}" if reasons else "")
    )


def list_table(page: dict[str, Any], now: float | None = None) -> Table:
    """`sentra rollouts list`: one row per rollout, newest first."""
    now = time.time() if now is None else now
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("ID", "SERVICE", "NAMESPACE", "VERSIONS", "STATE", "WEIGHT", "AGE"):
        table.add_column(column, no_wrap=True)
    for r in page.get("items", []):
        symbol, style = STATES.get(str(r.get("state")), ("?", ""))
        table.add_row(
            str(r.get("id")),
            str(r.get("service")),
            str(r.get("namespace")),
            f"{r.get('baseline_version')} → {r.get('canary_version')}",
            Text(f"{symbol} {r.get('state')}", style=style),
            _pct(r.get("weight")),
            _age(now - float(r.get("created_at") or now)),
        )
    return table


def _gist(v: dict[str, Any] | None) -> tuple[Any, ...] | None:
    if v is None:
        return None
    return (v.get("action"), *((e.get("metric"), e.get("status")) for e in v.get("evidence") or []))


def _summary(v: dict[str, Any]) -> str:
    score = v.get("score")
    shown = "–" if score is None else f"{float(score):g}"
    return f"{v.get('action')} (risk {_number(v.get('risk'))}, score {shown})"


def _pct(x: Any) -> str:
    return "?" if x is None else f"{float(x):g} %"


def _number(x: Any) -> str:
    return "–" if x is None else f"{float(x):.2f}"


def _clock(ts: Any) -> str:
    return time.strftime("%H:%M:%S", time.localtime(float(ts) if ts else time.time()))


def _age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"
