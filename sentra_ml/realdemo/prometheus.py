"""A private Prometheus scraping both cohorts every second, and the rollout's `source` for it.

The queries are the Prometheus source's helpers (`error_ratio`, `histogram`), which take each
interval's exact increase rather than ``increase()``'s extrapolation (see `per_interval`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from sentra_adapters.telemetry.promql import error_ratio, histogram

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


def source(url: str, step: float, versions: dict[str, str]) -> dict[str, Any]:
    """The rollout's `source`: errors and latency of each cohort (by its version label), one
    sample per `step`."""
    return {
        "kind": "prometheus",
        "url": url,
        "step": step,
        "timeout": 2,
        "cohorts": {cohort: f'version="{v}"' for cohort, v in versions.items()},
        "metrics": [
            {"name": m.name, "kind": str(m.kind), "scale": m.scale, **m.queries}
            for m in (
                error_ratio("errors", "demo_requests_total", failed='code="500"'),
                histogram("latency_ms", "demo_request_duration_seconds", scale=1000),
            )
        ],
    }
