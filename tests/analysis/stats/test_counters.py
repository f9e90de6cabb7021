"""Counter increments with Prometheus' reset rule: deltas sum to the true increments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sentra_ml.analysis.stats.counters import CounterDeltas, HistogramDeltas, bucket_deltas


def test_first_reading_has_no_delta_and_steady_growth_is_exact() -> None:
    c = CounterDeltas()
    assert c.update(5.0) is None
    assert c.update(7.5) == 2.5
    assert c.update(7.5) == 0.0
    assert c.resets == 0


def test_reset_counts_the_new_value() -> None:
    c = CounterDeltas()
    c.update(1000.0)
    assert c.update(3.0) == 3.0
    assert c.resets == 1
    assert c.update(10.0) == 7.0


def test_sum_of_deltas_equals_true_increments_across_restarts() -> None:
    rng = np.random.default_rng(11)
    increments = rng.poisson(50.0, size=500).astype(float)
    # restarts far apart: each one drops below the last reading, so each is detectable
    restarts = set(rng.choice(np.arange(5, 500, 20), size=12, replace=False).tolist())
    c = CounterDeltas()
    value = 1234.0  # the process had been running before we started watching
    assert c.update(value) is None
    total = 0.0
    for t, inc in enumerate(increments, start=1):
        # a restart between scrapes: the counter restarts at 0 and then counts `inc`
        value = inc if t in restarts else value + inc
        delta = c.update(value)
        assert delta is not None and delta >= 0
        total += delta
    assert total == pytest.approx(increments.sum())
    assert c.resets == len(restarts)  # each restart drops far below the running total


def test_invalid_readings_raise_and_keep_state() -> None:
    c = CounterDeltas()
    c.update(10.0)
    for bad in (math.nan, math.inf, -1.0):
        with pytest.raises(ValueError):
            c.update(bad)
    assert c.update(12.0) == 2.0
    c.reset()
    assert c.update(1.0) is None


def test_bucket_deltas_per_bucket_resets() -> None:
    prev = np.array([5.0, 9.0, 10.0])
    assert bucket_deltas(prev, [7.0, 12.0, 14.0]).tolist() == [2.0, 3.0, 4.0]
    assert bucket_deltas(prev, [1.0, 2.0, 2.0]).tolist() == [1.0, 2.0, 2.0]
    # a reset seen in one series only; the running maximum keeps the result cumulative
    raw = bucket_deltas(prev, [6.0, 1.0, 12.0], monotonic=False)
    assert raw.tolist() == [1.0, 1.0, 2.0]
    assert bucket_deltas(prev, [6.0, 1.0, 12.0]).tolist() == [1.0, 1.0, 2.0]
    assert bucket_deltas([5.0, 9.0, 10.0], [7.0, 3.0, 12.0]).tolist() == [2.0, 3.0, 3.0]
    with pytest.raises(ValueError):
        bucket_deltas([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError):
        bucket_deltas([1.0, 2.0], [1.0, math.nan])


def test_histogram_deltas_sum_to_true_counts_with_restarts() -> None:
    rng = np.random.default_rng(5)
    edges = np.array([0.1, 0.5, 1.0, math.inf])
    h = HistogramDeltas()
    cumulative = np.zeros(len(edges))
    assert h.update(cumulative) is None
    true_total = np.zeros(len(edges))
    seen_total = np.zeros(len(edges))
    for t in range(300):
        values = rng.exponential(0.4, size=rng.poisson(20))
        per_bucket = np.bincount(np.searchsorted(edges, values), minlength=len(edges))
        interval = np.cumsum(per_bucket).astype(float)  # cumulative across `le`
        cumulative = interval.copy() if t % 97 == 50 else cumulative + interval
        delta = h.update(cumulative)
        assert delta is not None
        assert np.all(np.diff(delta) >= 0)
        true_total += interval
        seen_total += delta
    np.testing.assert_allclose(seen_total, true_total)
    # a new bucket layout starts a new series
    assert h.update([1.0, 2.0]) is None


def test_a_reset_that_climbs_past_the_last_reading_is_invisible() -> None:
    """As in Prometheus: only a decrease reveals a reset, so this one under-counts."""
    c = CounterDeltas()
    c.update(10.0)
    assert c.update(15.0) == 5.0  # really: restarted, then counted 15
    assert c.resets == 0
