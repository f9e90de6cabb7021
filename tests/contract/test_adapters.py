"""One contract for every traffic router and every telemetry source, against real servers."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from adapter_servers import free_port, wait_until
from aws_server import (
    COHORT_DIMENSIONS,
    cloudwatch_source,
    dead_client,
    running_alb,
    running_ecs,
    running_lambda,
    running_moto,
)
from aws_server import SOURCE_METRICS as CLOUDWATCH_METRICS
from envoy_server import running_envoy
from fake_azure import FakeCredential, running_azure_router
from fake_cloud_run import REVISIONS, running_cloud_run_router
from fake_kube_api import running_gateway, running_ingress_nginx, running_replicas
from fake_loki_tempo import LOKI_METRICS, LOKI_SELECTORS, running_loki_source
from haproxy_server import running_haproxy
from nginx_server import running_nginx
from prometheus_server import running_prometheus
from sentra_adapters.errors import AdapterError, Misconfigured, Rejected, Unavailable
from sentra_adapters.telemetry.base import TelemetrySource
from sentra_adapters.telemetry.registry import sources
from sentra_adapters.traffic.base import Outcome, TrafficRouter, Verification
from sentra_adapters.traffic.registry import routers

from sentra_ml.analysis.types.labels import Cohort, MetricKind

ROUTERS = ["nginx", "haproxy", "envoy", "aws_lambda", "aws_alb", "aws_ecs", "gateway_api",
           "ingress_nginx", "k8s_replicas", "gcp_cloud_run", "azure_container_apps",
           "azure_functions"]  # fmt: skip
SOURCES = ["cloudwatch", "loki", "prometheus"]
COHORTS = {"baseline": "baseline", "canary": "canary"}


def test_the_registries_list_every_backend() -> None:
    assert routers.kinds() == sorted(ROUTERS)
    assert sources.kinds() == SOURCES


@pytest.mark.parametrize("registry", [routers, sources])
def test_an_unknown_kind_is_refused_not_defaulted(registry: Any) -> None:
    with pytest.raises(Misconfigured, match=r"unknown (router|source) kind 'istio'; known: \w+"):
        registry.create("istio")


# --- routers -----------------------------------------------------------------------------------


def dead_router_config(kind: str, tmp: Path) -> dict[str, Any]:
    """A valid configuration of `kind` whose backend is not running."""
    if kind == "aws_lambda":
        return {"function": "app", "alias": "live", "versions": {"baseline": "1", "canary": "2"},
                "client": dead_client("lambda")}  # fmt: skip
    if kind == "aws_alb":
        return {"listener_arn": "arn:listener", "target_groups": {"baseline": "arn:b",
                "canary": "arn:c"}, "client": dead_client("elbv2")}  # fmt: skip
    if kind == "aws_ecs":
        return {"cluster": "app", "service": "app", "task_sets": {"baseline": "a", "canary": "b"},
                "listener_arn": "arn:listener", "ecs_client": dead_client("ecs"),
                "elbv2_client": dead_client("elbv2")}  # fmt: skip
    if kind == "nginx":
        upstream = f"upstream app {{ include {tmp}/app.servers; }}"
        (tmp / "nginx.conf").write_text(f"pid {tmp}/nginx.pid; events {{}} http {{ {upstream} }}")
        nginx = "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "/nonexistent/nginx"
        command = [nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "e.log")]
        servers = {"baseline": "127.0.0.1:1", "canary": "127.0.0.1:2"}
        return {"servers_file": tmp / "app.servers", "servers": servers, "nginx": command}
    if kind == "gateway_api":
        return {"route": "app", "services": {"baseline": "v1", "canary": "v2"},
                "host": f"http://127.0.0.1:{free_port()}", "timeout": 1.0}  # fmt: skip
    if kind == "ingress_nginx":
        return {"ingresses": {"baseline": "app", "canary": "app-canary"},
                "host": f"http://127.0.0.1:{free_port()}", "timeout": 1.0}  # fmt: skip
    if kind == "k8s_replicas":
        return {"deployments": {"baseline": "v1", "canary": "v2"}, "replicas": 100,
                "host": f"http://127.0.0.1:{free_port()}", "timeout": 1.0}  # fmt: skip
    if kind == "gcp_cloud_run":
        from google.auth.credentials import AnonymousCredentials

        return {"service": "projects/p/locations/l/services/app", "revisions": REVISIONS,
                "endpoint": f"http://127.0.0.1:{free_port()}", "timeout": 1.0,
                "credentials": AnonymousCredentials()}  # fmt: skip
    if kind in ("azure_container_apps", "azure_functions"):
        dead = {"subscription_id": "sub", "resource_group": "rg", "credential": FakeCredential(),
                "base_url": f"https://127.0.0.1:{free_port()}", "timeout": 1.0}  # fmt: skip
        if kind == "azure_functions":
            return {**dead, "site": "app", "slots": {"baseline": "production", "canary": "s"}}
        return {**dead, "app": "app", "revisions": {"baseline": "app--1", "canary": "app--2"}}
    if kind == "haproxy":
        return {"socket": tmp / "admin.sock", "backend": "app", "servers": COHORTS,
                "state_file": tmp / "servers.state"}  # fmt: skip
    (tmp / "rds").mkdir()
    return {"rds_file": tmp / "rds" / "routes.json", "route_name": "app", "clusters": COHORTS,
            "admin_url": f"http://127.0.0.1:{free_port()}", "timeout": 1.0}  # fmt: skip


@pytest.fixture(scope="module", params=ROUTERS)
def live_router(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TrafficRouter]:
    start: dict[str, Callable[[Path], AbstractContextManager[Any]]] = {
        "nginx": running_nginx,
        "haproxy": running_haproxy,
        "envoy": running_envoy,
        "aws_lambda": running_lambda,
        "aws_alb": running_alb,
        "aws_ecs": running_ecs,
        "gateway_api": running_gateway,
        "ingress_nginx": running_ingress_nginx,
        "k8s_replicas": running_replicas,
        "gcp_cloud_run": running_cloud_run_router,
        "azure_container_apps": lambda d: running_azure_router("azure_container_apps", d),
        "azure_functions": lambda d: running_azure_router("azure_functions", d),
    }
    with start[request.param](tmp_path_factory.mktemp(request.param)) as setup:
        yield setup.router


INVALID = [
    {"baseline": 60, "canary": 50},
    {"baseline": 110, "canary": -10},
    {"canary": 100},
    {"baseline": 50, "canary": 50, "shadow": 0},
    {"baseline": math.nan, "canary": math.nan},
    {"baseline": True, "canary": 99},
    {"baseline": "50", "canary": 50},
]


@pytest.mark.parametrize("kind", ROUTERS)
@pytest.mark.parametrize("weights", INVALID, ids=range(len(INVALID)))
def test_invalid_weights_are_rejected_before_any_call(
    kind: str, weights: Mapping[str, Any], tmp_path: Path
) -> None:
    # the backend is down: any call would raise Unavailable, so Rejected proves none was made
    router = routers.create(kind, **dead_router_config(kind, tmp_path))
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(Rejected, match=rf"^{kind}: weights: "):
        router.set_weights(weights)
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("kind", ROUTERS)
def test_weights_finer_than_the_backend_resolution_are_rejected(kind: str, tmp_path: Path) -> None:
    router = routers.create(kind, **dead_router_config(kind, tmp_path))
    fine = router.resolution / 2
    with pytest.raises(Rejected, match=rf"^{kind}: weights: .*resolution"):
        router.set_weights({"baseline": 100 - fine, "canary": fine})


@pytest.mark.parametrize("kind", ROUTERS)
def test_an_unreachable_backend_is_unavailable_and_named(kind: str, tmp_path: Path) -> None:
    router = routers.create(kind, **dead_router_config(kind, tmp_path))
    assert isinstance(router, TrafficRouter) and router.kind == kind
    with pytest.raises(Unavailable, match=rf"^{kind}: "):
        router.set_weights({"baseline": 90, "canary": 10})
    with pytest.raises(AdapterError, match=rf"^{kind}: "):
        router.get_weights()


@pytest.mark.parametrize("kind", ROUTERS)
def test_a_missing_cohort_is_a_configuration_error(kind: str, tmp_path: Path) -> None:
    config = dead_router_config(kind, tmp_path)
    key = {"envoy": "clusters", "aws_lambda": "versions", "aws_alb": "target_groups",
           "aws_ecs": "task_sets", "gateway_api": "services", "ingress_nginx": "ingresses",
           "k8s_replicas": "deployments", "gcp_cloud_run": "revisions",
           "azure_container_apps": "revisions", "azure_functions": "slots",
           }.get(kind, "servers")  # fmt: skip
    config[key] = {"canary": "x"}
    with pytest.raises(Misconfigured, match=rf"^{kind}: {key}: .*missing \['baseline'\]"):
        routers.create(kind, **config)


def test_weights_set_are_the_weights_read_back(live_router: TrafficRouter) -> None:
    steps = [0.0, live_router.resolution, 5.0, 50.0, 99.0, 100.0]
    for canary in steps:
        weights = {"baseline": 100 - canary, "canary": canary}
        live_router.set_weights(weights)
        held = live_router.get_weights()
        assert held[Cohort.CANARY] == pytest.approx(canary, abs=1e-9), (canary, held)
        assert held[Cohort.BASELINE] == pytest.approx(100 - canary, abs=1e-9)
        assert live_router.verify(weights) is not Verification.MISMATCH


def test_setting_the_same_weights_twice_is_harmless(live_router: TrafficRouter) -> None:
    for _ in range(2):
        live_router.set_weights({"baseline": 80, "canary": 20})
    assert live_router.get_weights()[Cohort.CANARY] == pytest.approx(20)


@pytest.mark.parametrize("outcome", list(Outcome))
def test_finalize_sends_everything_one_way(live_router: TrafficRouter, outcome: Outcome) -> None:
    live_router.set_weights({"baseline": 50, "canary": 50})
    live_router.finalize(outcome)
    winner = Cohort.CANARY if outcome is Outcome.PROMOTE else Cohort.BASELINE
    if getattr(live_router, "promotion_swaps", False):
        winner = Cohort.BASELINE  # the canary build now is the baseline: slots were swapped
    assert live_router.get_weights()[winner] == pytest.approx(100)


# --- sources -----------------------------------------------------------------------------------

SOURCE_METRICS: list[dict[str, Any]] = [
    {"name": "errors", "kind": "ratio",
     "total": "sum(increase(http_requests_total{$selector}[$interval]))",
     "failed": 'sum(increase(http_requests_total{$selector,code="500"}[$interval]))'},
    {"name": "latency", "kind": "latency", "scale": 1000,
     "buckets": "sum by (le) (increase(http_request_duration_seconds_bucket{$selector}"
                "[$interval]))"},
    {"name": "cpu", "kind": "gauge", "instance_label": "pod",
     "value": "avg by (pod) (avg_over_time(process_cpu_ratio{$selector}[$interval]))"},
]  # fmt: skip
SELECTORS = {"baseline": 'version="v1"', "canary": 'version="v2"'}


@pytest.fixture(scope="module", params=SOURCES)
def live_source(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TelemetrySource]:
    if request.param == "cloudwatch":
        with running_moto() as moto:
            yield cloudwatch_source(moto)
        return
    if request.param == "loki":
        with running_loki_source() as source:
            yield source
        return
    with running_prometheus(tmp_path_factory.mktemp("prometheus")) as setup:
        source = sources.create(
            request.param, url=setup.url, cohorts=SELECTORS, metrics=SOURCE_METRICS, step=2.0
        )
        yield source


def dead_source(kind: str) -> TelemetrySource:
    if kind == "cloudwatch":
        client = dead_client("cloudwatch")
        return sources.create(
            kind, cohorts=COHORT_DIMENSIONS, metrics=CLOUDWATCH_METRICS, client=client
        )
    url = f"http://127.0.0.1:{free_port()}"
    if kind == "loki":
        return sources.create(kind, url=url, cohorts=LOKI_SELECTORS, metrics=LOKI_METRICS)
    return sources.create(kind, url=url, cohorts=SELECTORS, metrics=SOURCE_METRICS, timeout=1.0)


@pytest.mark.parametrize("kind", SOURCES)
def test_an_unreachable_source_is_unavailable_and_named(kind: str) -> None:
    source = dead_source(kind)
    assert isinstance(source, TelemetrySource) and source.kind == kind
    with pytest.raises(Unavailable, match=rf"^{kind}: "):
        source.fetch("errors", Cohort.CANARY, time.time() - 60, time.time())


@pytest.mark.parametrize("kind", SOURCES)
def test_an_unknown_metric_is_a_configuration_error(kind: str) -> None:
    with pytest.raises(Misconfigured, match=rf"^{kind}: unknown metric 'nope'"):
        dead_source(kind).fetch("nope", Cohort.CANARY, time.time() - 60, time.time())


def test_nothing_recorded_is_no_data_not_an_error(live_source: TelemetrySource) -> None:
    future = time.time() + 3600
    for metric in live_source.metrics():
        for cohort in Cohort:
            window = live_source.fetch(metric, cohort, future, future + 60)
            assert window.no_data and (window.metric, window.cohort) == (metric, cohort)


def test_samples_are_of_the_metric_kind_and_inside_the_window(
    live_source: TelemetrySource,
) -> None:
    by_kind = {"cloudwatch": CLOUDWATCH_METRICS, "loki": LOKI_METRICS}
    metrics = by_kind.get(live_source.kind, SOURCE_METRICS)
    kinds = {m["name"]: MetricKind(m["kind"]) for m in metrics}
    start = time.time() - 60

    def all_have_data() -> bool:
        return all(
            not live_source.fetch(m, c, start, time.time()).no_data for m in kinds for c in Cohort
        )

    wait_until(all_have_data, 30, "data for every metric and cohort", every=0.2)
    end = time.time()
    for metric, kind in kinds.items():
        for cohort in Cohort:
            window = live_source.fetch(metric, cohort, start, end)
            for s in window.samples:
                assert (s.metric, s.cohort) == (metric, cohort)
                assert start <= s.ts <= end
                assert type(s).__name__.lower().startswith(str(kind))
