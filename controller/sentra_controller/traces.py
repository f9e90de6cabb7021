"""Example traces of a regressed metric, found in Tempo and attached to the verdict's reasons.

Searches run off the judging path, in a small thread pool, so Tempo never delays a verdict.
Once per rollout and metric, when the metric first shows a regression, the canary's failed
requests (a ratio metric) or its requests slower than `slow_ms` (a latency metric) since the
rollout began are searched. What is found, or why nothing was, is reported once to `on_found`;
every later verdict of the rollout carries it, in `traces` and as one reason per metric.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from sentra_adapters.errors import AdapterError
from sentra_adapters.telemetry.tempo import TempoTraces, TraceLink

from sentra_ml.analysis.types.labels import Cohort, MetricKind
from sentra_ml.analysis.types.specs import RolloutSpec

SEARCH_TIMEOUT = 5.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Found:
    """One search's outcome for a metric: example traces, or why there are none."""

    metric: str
    what: str  # "failed" or "slower than 250 ms"
    links: tuple[TraceLink, ...]
    error: str | None = None

    def reason(self) -> str:
        if self.error is not None:
            return f"{self.metric}: no example traces ({self.error})"
        if not self.links:
            return f"{self.metric}: Tempo holds no {self.what} canary requests of this rollout"
        return f"{self.metric}: {self.what} canary requests: " + ", ".join(
            link.url for link in self.links
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "what": self.what,
            "links": [asdict(link) for link in self.links],
            "error": self.error,
        }


def attach(verdict: dict[str, Any], found: Iterable[Found]) -> bool:
    """Add to `verdict` the findings it does not carry yet; whether any was added."""
    carried = verdict.setdefault("traces", {})
    new = [f for f in found if f.metric not in carried]
    for f in new:
        carried[f.metric] = f.to_dict()
    verdict["reasons"] = [*verdict["reasons"], *(f.reason() for f in new)]
    return bool(new)


def _what(kind: MetricKind, config: dict[str, Any], metric: str) -> str | None:
    if kind is MetricKind.RATIO:
        return "failed"
    slow = config.get("slow_ms", {}).get(metric)
    if kind is MetricKind.LATENCY and slow is not None:
        return f"slower than {slow:g} ms"
    return None  # a gauge has no requests; a latency needs its threshold


class TraceLinker:
    """Searches, in the background, for the traces of each rollout's regressed metrics."""

    def __init__(self, on_found: Callable[[str, Found], None], workers: int = 2) -> None:
        self._on_found = on_found
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="sentra-traces")
        self._lock = threading.Lock()
        self._asked: dict[str, set[str]] = {}
        self._found: dict[str, dict[str, Found]] = {}

    def ask(
        self,
        rollout_id: str,
        config: dict[str, Any] | None,
        spec: RolloutSpec,
        verdict: dict[str, Any],
        since: float,
    ) -> None:
        """Start a search for each metric the verdict shows regressed for the first time."""
        if not config:
            return
        for evidence in verdict["evidence"]:
            metric = str(evidence["metric"])
            kind = spec.metric(metric).kind
            what = _what(kind, config, metric)
            if evidence["status"] != "regression" or what is None:
                continue
            with self._lock:
                asked = self._asked.setdefault(rollout_id, set())
                if metric in asked:
                    continue
                asked.add(metric)
            until = float(verdict["ts"])
            self._pool.submit(self._search, rollout_id, config, metric, kind, what, since, until)

    def found(self, rollout_id: str) -> list[Found]:
        with self._lock:
            return list(self._found.get(rollout_id, {}).values())

    def forget(self, rollout_id: str) -> None:
        """Drop a finished rollout's findings (a search still running reports all the same)."""
        with self._lock:
            self._asked.pop(rollout_id, None)
            self._found.pop(rollout_id, None)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _search(
        self,
        rollout_id: str,
        config: dict[str, Any],
        metric: str,
        kind: MetricKind,
        what: str,
        since: float,
        until: float,
    ) -> None:
        threshold = config.get("slow_ms", {}).get(metric)
        try:
            source = TempoTraces.from_config(config, SEARCH_TIMEOUT)
            try:
                links = source.for_metric(
                    kind, Cohort.CANARY, since, until, threshold_ms=threshold,
                    limit=int(config.get("limit", 3)),
                )  # fmt: skip
            finally:
                source.close()
            found = Found(metric, what, tuple(links))
        except AdapterError as err:
            found = Found(metric, what, (), str(err))
        except Exception as err:  # a bug here must not go unseen in a pool thread
            log.exception("rollout %s: trace search for %s failed", rollout_id, metric)
            found = Found(metric, what, (), f"internal error: {type(err).__name__}")
        with self._lock:
            if rollout_id in self._asked:
                self._found.setdefault(rollout_id, {})[metric] = found
        try:
            self._on_found(rollout_id, found)
        except Exception:
            log.exception("rollout %s: reporting the traces of %s failed", rollout_id, metric)
