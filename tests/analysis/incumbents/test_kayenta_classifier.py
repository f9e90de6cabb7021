"""Kayenta's Mann-Whitney classifier on the cases of Kayenta's own ClassifierSuite."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sentra_ml.analysis.incumbents.kayenta_classifier import kayenta_classify, kayenta_compare
from sentra_ml.analysis.types.labels import Direction

# --- Kayenta's classifier: cases from Kayenta's own ClassifierSuite ---------------------------

PASS_CANARY = [
    9.7767343120109462, 10.587071850477695, 7.8375506388901766, 9.3243326886113884,
    8.3774505409784421, 8.9359264399606282, 8.2707663324728511, 9.7484308126716925,
    11.623746715547156, 9.2753442679633942, 8.1538047749171518, 10.562020975754294,
    13.498135575451835, 11.054419256110332, 6.9538903590055092, 12.521008342195479,
    9.0216358603546443, 4.9234856699531662, 11.251360203607172, 11.598449508040337,
    8.435232204668182, 11.110228516867279, 10.70063380164755, 8.9212773652115249,
    10.086167067942661, 11.42107515483087, 9.3792347813644952, 7.7980320148552593,
    10.62339807275746, 11.909642062063739,
]  # fmt: skip
HIGH_CANARY = [
    20.878412601720026, 21.78550581191622, 19.70828084717019, 15.859946903461562,
    19.510058772176841, 19.392005525270303, 22.926528314912101, 17.156530276709894,
    18.655117916226171, 23.422607911610392, 24.055817684156644, 22.62689958516501,
    21.979472967817678, 21.659318607218694, 20.067707574072426, 22.119570836305414,
    16.44037132663307, 21.559622826341268, 21.000181443489218, 17.779369411412663,
    17.806006358943584, 18.537200618386109, 20.555550300210797, 19.552928184468378,
    21.771118944087092, 21.809622806176627, 20.961762909905271, 20.977571577503021,
    19.106303205498794, 16.976918966987078,
]  # fmt: skip
BASELINE = [
    11.1453586774086, 9.9618059885597017, 7.068574306369829, 7.3012661810483657,
    9.7944630265656727, 9.6037918603687302, 6.1867793350339388, 12.345599159550174,
    10.371891733859533, 8.6094300785016724, 9.913162673361084, 10.361375299003466,
    14.206800387518818, 10.946153754753301, 10.215876627044048, 11.739760899484603,
    10.907627468626439, 12.823353694464775, 8.1018609771732137, 8.4981616408804932,
    12.113441374697231, 13.272210809932028, 10.114579381663297, 6.9463958767978067,
    6.2105278541727778, 10.160401684903775, 8.3457712066455461, 8.383822063895833,
    7.0020205070083765, 10.755757401808442,
]  # fmt: skip
HIGH_BASELINE = [
    20.758113589510348, 22.802059629464559, 20.612340363492208, 20.973274654749986,
    23.469237330498622, 21.53133988954805, 21.767353687439805, 18.308050730374301,
    19.062145167827566, 25.879498436001779, 18.982629726336128, 19.387920182269266,
    18.995398251246982, 24.228420230932805, 20.050985172694688, 18.2340451091756,
    17.870515494460435, 23.058103863806618, 18.400259567501134, 16.971352091177167,
    19.467529066052151, 17.90465423342031, 17.553948617825831, 16.104611843907193,
    24.38171081433039, 15.919294339922635, 20.479409626304697, 19.08307201492406,
    17.455788050722866, 18.853826823235142,
]  # fmt: skip


@pytest.mark.parametrize(
    ("canary", "baseline", "direction", "expected"),
    [
        (PASS_CANARY, BASELINE, "either", "Pass"),
        (HIGH_CANARY, BASELINE, "either", "High"),
        (PASS_CANARY, HIGH_BASELINE, "either", "Low"),
        (PASS_CANARY, HIGH_BASELINE, "increase", "Pass"),
        (HIGH_CANARY, BASELINE, "decrease", "Pass"),
        (HIGH_CANARY, BASELINE, "increase", "High"),
        (PASS_CANARY, HIGH_BASELINE, "decrease", "Low"),
    ],
)
def test_kayenta_classifier_suite(
    canary: list[float], baseline: list[float], direction: str, expected: str
) -> None:
    assert kayenta_classify(canary, baseline, direction, 0.10, 0.95) == expected


def test_kayenta_effect_size_and_critical_thresholds() -> None:
    high_c, high_b = [20.0, 22.0, 21.0, 25.0, 30.0], [1.0, 2.2, 1.1, 2.5, 3.0]
    strict = {"allowed_decrease": 0.8, "allowed_increase": 1.2}
    assert kayenta_classify(high_c, high_b, "either", 0.10, 0.95, **strict) == "High"
    assert kayenta_classify(PASS_CANARY, HIGH_BASELINE, "decrease", 0.10, 0.95, **strict) == "Low"
    # a real decrease, but the mean ratio 0.57 is not below the allowed 0.5
    loose = {"allowed_decrease": 0.5, "allowed_increase": 1.0}
    low_c = [10.0, 12.2, 10.1, 12.5, 23.0]
    assert kayenta_classify(low_c, high_c, "either", 0.10, 0.95, **loose) == "Pass"
    r = kayenta_compare(high_c, high_b, "either", 0.10, 0.95, critical=True, critical_increase=1.2)
    assert r.label == "High" and r.critical
    assert r.deviation == pytest.approx(np.mean(high_c) / np.mean(high_b))
    crit_c, crit_b = [2.0, 2.0, 2.0, 2.0, 3.0], [10.0, 20.2, 10.1, 20.5, 30.0]
    r = kayenta_compare(crit_c, crit_b, "either", 0.10, 0.95, critical=True, critical_decrease=1.2)
    assert r.label == "Low" and r.critical
    r = kayenta_compare(HIGH_CANARY, BASELINE, "increase", 0.10, 0.95)
    assert r.label == "High" and not r.critical


def test_kayenta_special_cases() -> None:
    assert kayenta_classify([], [1.0, 2.0], "either") == "Nodata"
    assert kayenta_classify([math.nan], [1.0, 2.0], "either") == "Nodata"
    nodata = kayenta_compare([], [1.0], "either", critical=True)
    assert nodata.label == "Nodata" and nodata.critical
    assert kayenta_compare([], [1.0], "either", nan_strategy="replace").label == "Pass"
    assert kayenta_classify([3.0, 1.0, 2.0], [1.0, 2.0, 3.0], "either") == "Pass"  # identical
    assert kayenta_classify([5.0, 5.0], [5.0, 5.0, 5.0], "either") == "Pass"  # one value
    # each side constant, different: Kayenta's jitter limit
    assert kayenta_classify([7.0] * 20, [5.0] * 20, "either") == "High"
    assert kayenta_classify([7.0] * 20, [5.0] * 20, "decrease") == "Pass"
    assert kayenta_classify([3.0] * 20, [5.0] * 20, "either") == "Low"
    # Sentra's Direction values are accepted as they are
    assert kayenta_classify(HIGH_CANARY, BASELINE, Direction.INCREASE, 0.10, 0.95) == "High"
