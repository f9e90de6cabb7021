"""Anomaly likelihood: how unusual the recent average surprise is against its own long history.

The idea is Numenta's (Ahmad et al. 2017, "Unsupervised real-time anomaly detection for
streaming data"): a detector's raw surprise is noisy, so what is scored is the mean of the last
few raw surprises, as a Gaussian tail probability under the mean and spread of that same short
mean over a long history. A sustained run of modest surprises then counts as much as one big
one, and a series whose raw surprise is always high (a noisy one) stops alarming by itself.
"""

from __future__ import annotations

import math
from collections import deque


class AnomalyLikelihood:
    """Tail probability of the mean of the last `short` raw scores against the last `long`
    such means (their mean and standard deviation, with a floor on the latter).

    >>> import random
    >>> rng = random.Random(0)
    >>> likelihood = AnomalyLikelihood(short=10, long=500, min_history=100)
    >>> for _ in range(1000):
    ...     likelihood.learn_one(rng.expovariate(1.0))
    >>> likelihood.q_value(1.0) > 0.1, likelihood.q_value(30.0) < 1e-6
    (True, True)
    """

    def __init__(
        self, short: int = 10, long: int = 2000, min_history: int = 100, min_std: float = 0.05
    ) -> None:
        self.short = short
        self.long = long
        self.min_history = min_history
        self.min_std = min_std
        self._raw: deque[float] = deque()
        self._raw_sum = 0.0
        self._means: deque[float] = deque()
        self._sum = 0.0
        self._sum_sq = 0.0

    def _short_mean(self, raw: float) -> float:
        """The short-window mean if `raw` were the newest raw score."""
        full = len(self._raw) >= self.short
        total = self._raw_sum + raw - (self._raw[0] if full else 0.0)
        return total / (self.short if full else len(self._raw) + 1)

    def q_value(self, raw: float) -> float:
        """P(short mean >= the one `raw` would make) under the long history; 1.0 while warming."""
        n = len(self._means)
        if n < self.min_history or math.isnan(raw):
            return 1.0
        mean = self._sum / n
        var = max(self._sum_sq / n - mean * mean, 0.0)
        std = max(math.sqrt(var), self.min_std * max(abs(mean), 1e-9))
        z = (self._short_mean(raw) - mean) / std
        return 0.5 * math.erfc(z / math.sqrt(2.0))

    def learn_one(self, raw: float) -> None:
        """Add a raw score: it enters the short window, and the short mean the long history."""
        if math.isnan(raw):
            return
        m = self._short_mean(raw)
        self._raw.append(raw)
        self._raw_sum += raw
        if len(self._raw) > self.short:
            self._raw_sum -= self._raw.popleft()
        self._means.append(m)
        self._sum += m
        self._sum_sq += m * m
        if len(self._means) > self.long:
            old = self._means.popleft()
            self._sum -= old
            self._sum_sq -= old * old
