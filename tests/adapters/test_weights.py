"""Weight checks and the mapping of percent to each backend's integer weights."""

from __future__ import annotations

import pytest
from sentra_adapters.errors import Conflict, Rejected
from sentra_adapters.traffic.weights import check_weights, integer_weights, percent

from sentra_ml.analysis.types.labels import Cohort

B, C = Cohort.BASELINE, Cohort.CANARY


@pytest.mark.parametrize(
    ("canary", "scale", "expected"),
    [(0, 1000, (1, 0)), (100, 1000, (0, 1)), (10, 200, (9, 1)), (0.5, 200, (199, 1)),
     (33.3, 1000, (667, 333)), (0.01, 10000, (9999, 1))],
)  # fmt: skip
def test_percent_maps_to_the_smallest_integers(
    canary: float, scale: int, expected: tuple[int, int]
) -> None:
    ints = integer_weights(
        "x", check_weights("x", {"baseline": 100 - canary, "canary": canary}), scale
    )
    assert (ints[B], ints[C]) == expected
    assert percent("x", ints)[C] == pytest.approx(canary)


def test_weights_a_backend_cannot_express_are_rejected_not_rounded() -> None:
    with pytest.raises(Rejected, match=r"^haproxy: weights: baseline=99.75, canary=0.25 is finer"):
        integer_weights("haproxy", {B: 99.75, C: 0.25}, 200)


def test_sums_within_float_rounding_pass() -> None:
    assert check_weights("x", {"baseline": 100 - 33.3, "canary": 33.3})[C] == 33.3


def test_no_weight_anywhere_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="no cohort has a positive weight"):
        percent("haproxy", {B: 0, C: 0})
