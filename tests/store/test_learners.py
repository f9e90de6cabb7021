"""Service learner checkpoints: files when embedded, the bus (Redis) when shared."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from sentra_ml.analysis.anomaly import ServiceLearner
from sentra_ml.store import keys
from sentra_ml.store.bus import InProcessBus, RedisBus
from sentra_ml.store.learners import BusLearnerStore, FileLearnerStore, LearnerStore


def _checkpoint(n: int) -> bytes:
    learner = ServiceLearner()
    for i in range(n):
        learner.update({"errors.ratio": 0.01 * (i % 3)}, ts=10.0 * i)
    return learner.to_bytes()


def _roundtrip(store: LearnerStore, service: str) -> None:
    assert store.load(service) is None
    store.save(service, _checkpoint(5))
    store.save(service, _checkpoint(7))  # replaces
    raw = store.load(service)
    assert raw is not None and ServiceLearner.from_bytes(raw).n == 7
    assert store.load(service + "-other") is None


def test_files_hold_one_checkpoint_per_service_inside_their_root(tmp_path: Path) -> None:
    root = tmp_path / "learners"
    store = FileLearnerStore(root)
    for service in ("checkout", "../../etc/passwd", "paiement/€", "x" * 500):
        _roundtrip(store, service)
    assert all(p.parent == root and p.suffix == ".learner" for p in root.iterdir())
    assert len(list(root.iterdir())) == 4  # no temporary file is left behind


def test_a_failed_write_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileLearnerStore(tmp_path)
    store.save("checkout", _checkpoint(3))

    def disk_full(fd: int) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr("sentra_ml.store.learners.os.fsync", disk_full)
    with pytest.raises(OSError):
        store.save("checkout", _checkpoint(9))
    raw = store.load("checkout")
    assert raw is not None and ServiceLearner.from_bytes(raw).n == 3
    assert [p.suffix for p in tmp_path.iterdir()] == [".learner"]


def test_the_in_process_bus_holds_checkpoints() -> None:
    _roundtrip(BusLearnerStore(InProcessBus()), "checkout")


@pytest.mark.redis
def test_redis_holds_checkpoints_for_every_replica(redis_url: str) -> None:
    service = f"svc-{uuid.uuid4().hex}"
    one, two = RedisBus(redis_url), RedisBus(redis_url)
    try:
        BusLearnerStore(one).save(service, _checkpoint(4))
        raw = BusLearnerStore(two).load(service)
        assert raw is not None and ServiceLearner.from_bytes(raw).n == 4
    finally:
        one.close()
        two.close()


def test_a_damaged_checkpoint_on_the_bus_is_no_checkpoint() -> None:
    bus = InProcessBus()
    store = BusLearnerStore(bus)
    store.save("checkout", _checkpoint(2))
    bus.put(keys.learner("checkout"), "not base64 at all!", 60)
    assert store.load("checkout") is None
