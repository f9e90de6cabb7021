"""A private Prometheus scraping both cohorts every second, and the rollout's `source` for it.

The queries take each interval's exact increase, ``counter − counter offset <interval>``: with
scrapes every second and a two-second interval, ``increase()`` would see two samples of each
window and extrapolate one second of traffic to two, doubling counts the judge takes as real
requests. A counter reset (a restarted canary) makes that interval's difference negative; it is
clamped to zero, losing that interval rather than inventing traffic.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from sentra_ml.realdemo.processes import binary, free_port, running, wait_until

SCRAPE_SECONDS = 1.0

_CONFIG = """global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: demo
    static_configs:
      - targets: ["127.0.0.1:{baseline}"]
        labels: {{cohort: baseline}}
      - targets: ["127.0.0.1:{canary}"]
        labels: {{cohort: canary}}
"""


@contextlib.contextmanager
def prometheus(d: Path, baseline: int, canary: int) -> Iterator[str]:
    """Prometheus's URL, once it has scraped the baseline (each scenario starts its canary)."""
    d.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (d / "prometheus.yml").write_text(_CONFIG.format(baseline=baseline, canary=canary))
    command = [
        binary("prometheus", "/usr/bin/prometheus"),
        f"--config.file={d / 'prometheus.yml'}",
        f"--storage.tsdb.path={d / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.retention.time=1d",
        "--log.level=warn",
    ]
    url = f"http://127.0.0.1:{port}"
    with running(command, d / "prometheus.out") as proc:
        # the first samples are queryable a few seconds after start: poll, never sleep
        wait_until(lambda: _baseline_scraped(url), 60, "prometheus's first scrape", proc)
        yield url


def _baseline_scraped(url: str) -> bool:
    query = {"query": 'up{cohort="baseline"}'}
    body = httpx.get(f"{url}/api/v1/query", params=query, timeout=2).json()
    return any(float(r["value"][1]) == 1 for r in body["data"]["result"])


def _delta(series: str, interval: str = "$interval") -> str:
    return f"clamp_min(sum({series}) - sum({series} offset {interval}), 0)"


def _bucket_delta() -> str:
    series = "demo_request_duration_seconds_bucket{$selector}"
    before = f"sum by (le) ({series} offset $interval)"
    return f"clamp_min(sum by (le) ({series}) - {before}, 0)"


def source(url: str, step: float) -> dict[str, Any]:
    """The rollout's `source`: errors and latency of each cohort, one sample per `step`."""
    return {
        "kind": "prometheus",
        "url": url,
        "step": step,
        "timeout": 2,
        "cohorts": {"baseline": 'cohort="baseline"', "canary": 'cohort="canary"'},
        "metrics": [
            {
                "name": "errors",
                "kind": "ratio",
                "total": _delta("demo_requests_total{$selector}"),
                "failed": _delta('demo_requests_total{$selector,code="500"}'),
            },
            {"name": "latency_ms", "kind": "latency", "buckets": _bucket_delta(), "scale": 1000},
        ],
    }
