"""The API parses each rollout's spec once, keeps a bounded number, and drops the oldest first."""

from __future__ import annotations

import pytest

from sentra_ml.analysis.types.errors import SpecError
from sentra_ml.analysis.types.labels import MetricKind
from sentra_ml.api.spec_cache import SpecCache

BODY = {"metrics": [{"name": "errors", "kind": "ratio"}], "stale_after_seconds": 20.0}


def test_a_rollouts_spec_is_parsed_once_and_then_reused() -> None:
    cache = SpecCache()
    first = cache.spec("r1", BODY)
    assert first.metrics[0].kind is MetricKind.RATIO
    assert first.stale_after_seconds == 20.0
    # a hit does not look at the body again: the stored spec never changes after creation
    assert cache.spec("r1", {}) is first


def test_the_cache_is_bounded_and_the_least_recently_used_leaves_first() -> None:
    cache = SpecCache(size=2)
    a = cache.spec("a", BODY)
    cache.spec("b", BODY)
    assert cache.spec("a", BODY) is a  # "a" is now the most recently used
    cache.spec("c", BODY)
    assert len(cache) == 2
    assert cache.spec("a", {}) is a  # kept without parsing
    with pytest.raises(SpecError):
        cache.spec("b", {})  # "b" left: it is parsed anew (and this body has no metrics)


def test_a_bad_stored_spec_is_not_cached() -> None:
    cache = SpecCache()
    with pytest.raises(SpecError, match="metrics"):
        cache.spec("r1", {"metrics": []})
    assert len(cache) == 0
    assert cache.spec("r1", BODY).metrics[0].name == "errors"


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="size"):
        SpecCache(size=0)
