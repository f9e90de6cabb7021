"""Healthy service histories written as the exports `sentra train` reads."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

START = 1_700_000_000  # Unix seconds; 5-minute intervals
FEATURES = ("errors.ratio", "latency.p99.log")


def healthy(n: int = 4000, seed: int = 1) -> list[dict[str, float]]:
    """Error ratio around 1 %, log p99 latency with a daily cycle: nothing anomalous."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        errors = max(0.0, 0.01 + 0.003 * rng.standard_normal())
        latency = 200 + 40 * math.sin(2 * math.pi * i / 288) + 10 * rng.standard_normal()
        rows.append(
            {"timestamp": START + 300 * i, FEATURES[0]: errors, FEATURES[1]: math.log1p(latency)}
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, float]]) -> Path:
    lines = ["timestamp," + ",".join(FEATURES)]
    lines += [f"{r['timestamp']:.0f}," + ",".join(f"{r[k]:.6f}" for k in FEATURES) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_jsonl(path: Path, rows: list[dict[str, float]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def with_incidents(
    n: int = 1500, seed: int = 2
) -> tuple[list[dict[str, float]], list[list[float]]]:
    """A history after `healthy`'s with two labelled incidents: an error burst and a latency
    jump; returns the rows and their windows (Unix seconds, NAB's [start, end] pairs)."""
    rows = healthy(n, seed)
    shift = 300 * 4000  # after a 4000-interval training history
    for r in rows:
        r["timestamp"] += shift
    for i in range(900, 920):
        rows[i][FEATURES[0]] += 0.2
    for i in range(1200, 1230):
        rows[i][FEATURES[1]] += 1.5
    windows = [[rows[a]["timestamp"], rows[b]["timestamp"]] for a, b in ((895, 930), (1195, 1240))]
    return rows, windows


def write_nab_corpus(root: Path, n: int = 800) -> Path:
    """NAB's layout with one labelled file (a level shift at 600) and one without incidents."""
    rng = np.random.default_rng(5)
    (root / "data" / "cat").mkdir(parents=True)
    (root / "labels").mkdir()
    windows: dict[str, list[list[str]]] = {}
    for name, shift in (("cat/shift.csv", 600), ("cat/calm.csv", None)):
        stamps = [
            f"2014-04-{1 + i // 1440:02d} {i // 60 % 24:02d}:{i % 60:02d}:00" for i in range(n)
        ]
        values = 10 + rng.standard_normal(n)
        if shift is not None:
            values[shift:] += 12
            windows[name] = [[stamps[shift - 5], stamps[shift + 20]]]
        else:
            windows[name] = []
        lines = ["timestamp,value", *(f"{s},{v:.4f}" for s, v in zip(stamps, values, strict=True))]
        (root / "data" / name).write_text("\n".join(lines) + "\n")
    (root / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    return root
