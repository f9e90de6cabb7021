"""The NAB cross-validation benchmark on a tiny made-up corpus, in-process: its folds, choice and
files are well-formed. (The real run is `benchmarks/nab_cv.py` on the shared NAB files.)"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from benchmarks.nab_cv import main

CATEGORIES = ("artificialNoAnomaly", "artificialWithAnomaly", "realAdExchange", "realKnownCause")


def tiny_corpus(root: Path) -> Path:
    """One 1,200-row file per category at 5-min steps; a spike inside a window except in the
    first category."""
    rng = np.random.default_rng(0)
    windows: dict[str, list[list[str]]] = {}
    for k, cat in enumerate(CATEGORIES):
        (root / "data" / cat).mkdir(parents=True)
        t = np.datetime64("2024-01-01T00:00") + np.arange(1200) * np.timedelta64(5, "m")
        values = 10.0 + rng.normal(0, 1, 1200)
        name = f"{cat}/series_{k}.csv"
        windows[name] = []
        if k:
            values[900] += 15.0
            windows[name] = [[f"{t[880]}".replace("T", " "), f"{t[920]}".replace("T", " ")]]
        lines = ["timestamp,value", *(f"{a},{v:.4f}" for a, v in zip(t, values, strict=True))]
        (root / "data" / name).write_text("\n".join(lines).replace("T", " ") + "\n")
    (root / "labels").mkdir()
    (root / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    return root


def test_every_category_is_held_out_once_and_the_files_are_written(tmp_path: Path) -> None:
    data = tiny_corpus(tmp_path / "nab")
    out = tmp_path / "out"
    main(["--data", str(data), "--out", str(out), "--tiny"])
    result = json.loads((out / "nab_cv.json").read_text())
    assert result["files"] == 4 and result["chosen"] in result["grid_cv_mean"]
    assert len(result["grid_cv_mean"]) == 2
    folds = result["detectors"]["chosen default"]["folds"]["standard"]
    assert [f["held_out"] for f in folds] == sorted(CATEGORIES)
    assert [f["windows"] for f in folds] == [0, 1, 1, 1]
    assert all(f["detected"] == 1 for f in folds[1:])  # one clear spike per file
    assert {"earlier learner", "river SAD", "grid, nested"} <= set(result["detectors"])
    assert 0.0 <= result["false_alarms"]["shipped"]["gaussian"]["flag"] < 0.01
    assert "held-out" in (out / "nab_cv.md").read_text()
    assert (out / "nab_cv.png").stat().st_size > 10_000
