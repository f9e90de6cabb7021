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
