"""A private Prometheus scraping both cohorts every second, and the rollout's `source` for it.

The queries are the Prometheus source's helpers (`error_ratio`, `histogram`), which take each
interval's exact increase rather than ``increase()``'s extrapolation (see `per_interval`).
Behind a proxy that counts each cluster's requests (Envoy), the error ratio is the proxy's: a
request it could not deliver to a crashed canary fails at the proxy, and the canary's own metrics
never see it. Envoy's cluster name becomes the `cohort` label, so one selector per cohort
matches the app's series (its `version`) and the proxy's (no `version`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from sentra_adapters.telemetry.promql import PromMetric, error_ratio, histogram, per_interval

from sentra_ml.analysis.types.labels import MetricKind
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
_PROXY_JOB = """  - job_name: proxy
    metrics_path: /stats/prometheus
    static_configs:
      - targets: ["{stats}"]
    metric_relabel_configs:
      - source_labels: [envoy_cluster_name]
        regex: (baseline|canary)
        target_label: cohort
"""


@contextlib.contextmanager
def prometheus(d: Path, baseline: int, canary: int, stats: str | None = None) -> Iterator[str]:
    """Prometheus's URL, once it has scraped the baseline (each scenario starts its canary);
    with `stats`, it also scrapes the proxy's per-cluster counters there."""
    d.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = _CONFIG.format(baseline=baseline, canary=canary)
    if stats is not None:
        config += _PROXY_JOB.format(stats=stats)
    (d / "prometheus.yml").write_text(config)
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


def source(url: str, step: float, versions: dict[str, str], proxy: bool = False) -> dict[str, Any]:
    """The rollout's `source`: errors and latency of each cohort, one sample per `step`; the
    errors as the proxy counted them when it exports them (`proxy`)."""
    errors = (
        PromMetric(
            "errors",
            MetricKind.RATIO,
            {
                "total": f"sum({per_interval('envoy_cluster_upstream_rq_completed{$selector}')})",
                "failed": "sum({})".format(
                    per_interval(
                        'envoy_cluster_upstream_rq_xx{$selector,envoy_response_code_class="5"}'
                    )
                ),
            },
        )
        if proxy
        else error_ratio("errors", "demo_requests_total", failed='code="500"')
    )
    return {
        "kind": "prometheus",
        "url": url,
        "step": step,
        "timeout": 2,
        # `version` matches the cohort's own process, and the proxy's series, which have none
        "cohorts": {c: f'cohort="{c}",version=~"{v}|"' for c, v in versions.items()},
        "metrics": [
            {"name": m.name, "kind": str(m.kind), "scale": m.scale, **m.queries}
            for m in (errors, histogram("latency_ms", "demo_request_duration_seconds", scale=1000))
        ],
    }
