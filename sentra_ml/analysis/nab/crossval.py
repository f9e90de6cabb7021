"""Cross-validation across NAB's categories: choose on the others, score the one held out.

NAB's own rule picks one threshold over the whole corpus it reports on, so its score is a
development-set score. Here a candidate detector (e.g. one learner configuration of a grid) and its
threshold are chosen on every category but one, and the held-out category is scored at exactly
that candidate and threshold: an estimate of how the choice carries over to unseen data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sentra_ml.analysis.nab.profiles import CostProfile
from sentra_ml.analysis.nab.scoring import OUTSIDE, PointWeights, Sweep, fixed_score, sweep

Scores = Mapping[str, NDArray[np.float64]]  # file name -> one score per row


def category(name: str) -> str:
    """A NAB file's category: the folder in its name (`realKnownCause/nyc_taxi.csv`)."""
    return name.split("/", 1)[0] if "/" in name else ""


@dataclass(frozen=True)
class Fold:
    """One held-out category, scored at the candidate and threshold chosen without it."""

    held_out: str
    candidate: str
    threshold: float
    train: Sweep  # the chosen candidate on the other categories, at its best threshold
    test: Sweep  # the held-out category at that candidate and threshold
    windows: int  # held-out windows (0: the fold can only lose points to false alarms)
    detected: int
    false_positives: int  # held-out detections outside every window


def cross_validate(
    weights: Mapping[str, PointWeights], candidates: Mapping[str, Scores], profile: CostProfile
) -> list[Fold]:
    """One fold per category of `weights`' files, in sorted order.

    >>> from sentra_ml.analysis.nab import PROFILES, point_weights
    >>> t = np.arange(100.0)
    >>> w = {f"{c}/f.csv": point_weights(t, [(50.0, 59.0)], PROFILES["standard"]) for c in "ab"}
    >>> spike = np.where(t == 52, 1.0, 0.0)
    >>> folds = cross_validate(w, {"spike": {n: spike for n in w}}, PROFILES["standard"])
    >>> [(f.held_out, f.candidate, f.detected, f.false_positives) for f in folds]
    [('a', 'spike', 1, 0), ('b', 'spike', 1, 0)]
    """
    folds = []
    for held_out in sorted({category(n) for n in weights}):
        train = [n for n in weights if category(n) != held_out]
        test = [n for n in weights if category(n) == held_out]
        best: tuple[str, Sweep] | None = None
        for key, scores in candidates.items():
            result = sweep([(weights[n], scores[n]) for n in train], profile)
            if best is None or result.raw > best[1].raw + 1e-12:
                best = (key, result)
        if best is None:
            raise ValueError("no candidate detector to choose from")
        key, chosen = best
        detected = {n: candidates[key][n] >= chosen.threshold for n in test}
        held = fixed_score([(weights[n], detected[n]) for n in test], profile)
        hits: set[tuple[str, int]] = set()
        fp = 0
        for n in test:
            window = weights[n].window[detected[n]]
            fp += int(np.count_nonzero(window == OUTSIDE))
            hits.update((n, int(w)) for w in window[window >= 0])
        n_windows = sum(weights[n].n_windows for n in test)
        folds.append(Fold(held_out, key, chosen.threshold, chosen, held, n_windows, len(hits), fp))
    return folds
