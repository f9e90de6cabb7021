"""Console tables (rich), the markdown report and the JSON file of one benchmark run."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.harness import RunResult
from benchmarks.summary import Row, Summary, Target

TITLES = {
    "A": "A. Detection at a fixed 5 % weight (~20 canary req/s), onset uniform in [30, 90] s",
    "B": "B. Closed loop, bad release (fault from t=0, the rule's own weights), horizon 1800 s",
    "C": "C. Closed loop A/A: false rollbacks and time to full promotion, horizon 1800 s",
    "D": "D. Environment incident (both cohorts, onset 60 s, 180 s): pause instead of rollback",
    "R": "Ratios rule / sentra (same seeds, same run; > 1: the rule is slower or does more harm)",
}
# column key -> (header, format); formats: pct, s (seconds), n (number), x (ratio), str
COLUMNS: dict[str, tuple[str, str]] = {
    "fault": ("fault", "str"),
    "shape": ("shape", "str"),
    "rule": ("rule", "str"),
    "runs": ("runs", "n"),
    "detected": ("detected", "pct"),
    "median_delay_s": ("median delay", "s"),
    "p90_delay_s": ("p90 delay", "s"),
    "rollbacks_before_onset": ("rollbacks before onset", "n"),
    "promoted": ("promoted", "pct"),
    "undecided": ("undecided", "pct"),
    "rolled_back": ("rolled back", "pct"),
    "median_time_to_rollback_s": ("median time to rollback", "s"),
    "median_excess_failed": ("median excess failed", "n"),
    "p90_excess_failed": ("p90 excess failed", "n"),
    "median_canary_requests": ("median canary requests", "n"),
    "false_rollbacks": ("false rollbacks", "n"),
    "false_rollback_rate": ("false rollback rate", "pct"),
    "false_rollback_upper95": ("95 % upper bound", "pct"),
    "median_time_to_promotion_s": ("median time to promotion", "s"),
    "paused": ("issued PAUSE", "pct"),
    "no_rollback": ("no rollback (pause-instead-of-rollback)", "pct"),
    "rolled_back_in_window": ("rolled back in window", "pct"),
    "paused_during_incident": ("PAUSE during incident", "pct"),
    "decided_before_onset": ("decided before onset", "n"),
    "promoted_by_end": ("promoted by 300 s", "n"),
    "measurement": ("", "str"),
    "quantity": ("ratio of", "str"),
    "scenario": ("scenario", "str"),
    "kayenta": ("kayenta", "x"),
    "flagger": ("flagger", "x"),
    "argo": ("argo", "x"),
    "oracle": ("oracle", "x"),
    "sentra_hold": ("sentra_hold", "x"),
}
# in A, B, D a count column is a number of runs, not a share: keep them as counts there
_COUNTS = {("A", "promoted"), ("A", "undecided")}


def fmt(value: float | int | str, kind: str) -> str:
    """One cell: inf is "never" for times, "∞" for ratios; nan is "n/a"."""
    if isinstance(value, str) or kind == "str":
        return str(value)
    x = float(value)
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return {"s": "never", "x": "∞"}.get(kind, "∞")
    if kind == "pct":
        return f"{100 * x:.1f} %" if x == 0 or x >= 0.001 else f"{100 * x:.2f} %"
    if kind == "s":
        return f"{x:.1f}" if x < 100 else f"{x:.0f}"
    if kind == "x":
        if x == 0:  # rule / sentra with sentra's delay infinite
            return "sentra missed"
        return f"{x:.2f}x" if x < 10 else f"{x:.0f}x"
    return f"{x:.0f}" if x == int(x) or abs(x) >= 100 else f"{x:.1f}"


def _cells(key: str, rows: Sequence[Row]) -> tuple[list[str], list[list[str]]]:
    cols = list(dict.fromkeys(c for r in rows for c in r))
    kinds = [("n" if (key, c) in _COUNTS else COLUMNS.get(c, (c, "n"))[1]) for c in cols]
    heads = [COLUMNS.get(c, (c, ""))[0] for c in cols]
    body = [
        [fmt(r[c], k) if c in r else "" for c, k in zip(cols, kinds, strict=True)] for r in rows
    ]
    return heads, body


def console_tables(summary: Summary, ratio_rows: Sequence[Row], console: Console) -> None:
    for key, rows in [*summary.items(), ("R", list(ratio_rows))]:
        if not rows:
            continue
        heads, body = _cells(key, rows)
        table = Table(title=TITLES[key], title_justify="left")
        for h in heads:
            table.add_column(h, justify="left" if not body or not body[0] else "right")
        for line in body:
            table.add_row(*line)
        console.print(table)


def print_targets(checks: Sequence[Target], console: Console) -> None:
    colour = {"PASS": "green", "FAIL": "red", "N/A": "yellow"}
    for t in checks:
        console.print(f"[{colour[t.status]}]{t.status}[/] {t.name}: {t.value}", highlight=False)


def markdown(
    summary: Summary,
    ratio_rows: Sequence[Row],
    checks: Sequence[Target],
    header: Sequence[str],
    notes: Sequence[str],
) -> str:
    lines = ["# Detection benchmark", "", *header, ""]
    for key, rows in [*summary.items(), ("R", list(ratio_rows))]:
        if not rows:
            continue
        heads, body = _cells(key, rows)
        lines += [f"## {TITLES[key]}", "", "| " + " | ".join(heads) + " |"]
        lines.append("|" + "|".join("---" if i < 2 else "--:" for i in range(len(heads))) + "|")
        lines += ["| " + " | ".join(b) + " |" for b in body]
        lines.append("")
    lines += ["## Targets (reported, not tuned for)", ""]
    lines += [f"- **{t.status}** {t.name}: {t.value}" for t in checks]
    lines += ["", "## Notes", "", *[f"- {n}" for n in notes], ""]
    return "\n".join(lines)


def jsonable(obj: object) -> object:
    """Floats that JSON cannot hold (inf, nan) become null; tuples become lists."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    return obj


def write_json(
    path: Path,
    config: dict[str, object],
    summary: Summary,
    ratio_rows: Sequence[Row],
    checks: Sequence[Target],
    results: Sequence[RunResult],
) -> None:
    fields = list(RunResult.__dataclass_fields__)
    doc = {
        "config": config,
        "summary": summary,
        "ratios_vs_sentra": list(ratio_rows),
        "targets": [{"name": t.name, "status": t.status, "value": t.value} for t in checks],
        "runs": "__RUNS__",
        "null_means": "infinite (never happened: not detected, not promoted) or not defined",
    }
    # one compact line per run keeps the file small and still diff- and grep-friendly
    rows = [[_round(getattr(r, f)) for f in fields] for r in results]
    runs = ",\n  ".join(json.dumps(jsonable(row)) for row in rows)
    text = json.dumps(jsonable(doc), indent=1).replace(
        '"__RUNS__"', f'{{"fields": {json.dumps(fields)}, "rows": [\n  {runs}\n ]}}'
    )
    json.loads(text)  # it must stay valid JSON
    path.write_text(text + "\n")


def _round(x: object) -> object:
    return round(x, 3) if isinstance(x, float) and math.isfinite(x) else x
