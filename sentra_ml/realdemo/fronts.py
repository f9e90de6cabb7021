"""The load balancers of the real loop: NGINX, HAProxy or Envoy in front of the two cohorts.

Each front is started with all traffic on the baseline, gives the rollout its `target` (the
router config the controller uses) and a `probe` of what it serves now, read from outside the
router: NGINX's worker generation, HAProxy's live server weight, Envoy's live route version.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sentra_adapters.traffic.envoy import EnvoyRouter

from sentra_ml.analysis.types.labels import Cohort
from sentra_ml.realdemo.processes import binary, free_port, running, wait_until

FRONTS = ("nginx", "haproxy", "envoy")


@dataclass(frozen=True)
class Front:
    kind: str
    port: int
    target: dict[str, Any]  # the rollout's `target`
    probe: Callable[[], object]  # changes when new weights are served
    reset: Callable[[], None]  # all traffic back on the baseline
    # host:port whose /stats/prometheus counts each cluster's requests and 5xx, as the proxy saw
    # them (Envoy's admin); None: the cohorts' own metrics are the only request counts
    stats: str | None = None


def answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


_NGINX = """worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;
    uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
    upstream app {{ include {d}/app.servers; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{ proxy_pass http://app; proxy_connect_timeout 1s; }}
    }}
}}
"""


@contextlib.contextmanager
def nginx(d: Path, baseline: int, canary: int) -> Iterator[Front]:
    (d / "tmp").mkdir(parents=True, exist_ok=True)
    port = free_port()
    (d / "nginx.conf").write_text(_NGINX.format(d=d, port=port))
    servers = d / "app.servers"

    def reset() -> None:
        servers.write_text(
            f"server 127.0.0.1:{baseline} weight=1;\nserver 127.0.0.1:{canary} down;\n"
        )

    reset()
    command = [binary("nginx", "/usr/sbin/nginx"), "-p", str(d), "-c", str(d / "nginx.conf")]
    command += ["-e", str(d / "error.log")]
    with running(command, d / "nginx.out") as proc:
        wait_until(lambda: answers(port), 10, "nginx", proc)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")

        def reload_baseline() -> None:
            reset()
            wait_until(lambda: _run([*command, "-s", "reload"]), 10, "nginx reload", proc)

        target = {
            "kind": "nginx", "servers_file": str(servers), "nginx": command, "timeout": 5,
            "servers": {"baseline": f"127.0.0.1:{baseline}", "canary": f"127.0.0.1:{canary}"},
        }  # fmt: skip
        yield Front("nginx", port, target, lambda: children.read_text(), reload_baseline)


def _run(command: list[str]) -> bool:
    import subprocess

    return subprocess.run(command, capture_output=True, timeout=10).returncode == 0


_HAPROXY = """global
    stats socket {d}/admin.sock mode 600 level admin
    server-state-file {d}/servers.state
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    retries 1
    option redispatch
    load-server-state-from-file global
frontend web
    bind 127.0.0.1:{port}
    default_backend app
backend app
    balance roundrobin
    server baseline 127.0.0.1:{baseline} weight 1
    server canary 127.0.0.1:{canary} weight 0
"""


@contextlib.contextmanager
def haproxy(d: Path, baseline: int, canary: int) -> Iterator[Front]:
    d.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = d / "haproxy.cfg"
    conf.write_text(_HAPROXY.format(d=d, port=port, baseline=baseline, canary=canary))
    command = [binary("haproxy", "/usr/sbin/haproxy"), "-W", "-db", "-f", str(conf)]
    sock = str(d / "admin.sock")
    with running(command, d / "haproxy.out") as proc:
        wait_until(lambda: answers(port), 10, "haproxy", proc)

        def ask(line: str) -> str:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(sock)
                s.sendall(line.encode() + b"\n")
                return b"".join(iter(lambda: s.recv(65536), b"")).decode()

        def reset() -> None:
            ask("set weight app/baseline 200")
            ask("set weight app/canary 0")

        target = {
            "kind": "haproxy", "socket": sock, "backend": "app", "timeout": 2,
            "servers": {"baseline": "baseline", "canary": "canary"},
        }  # fmt: skip
        # both servers: the router may keep the canary's weight and move the baseline's
        weights = lambda: (ask("get weight app/baseline"), ask("get weight app/canary"))  # noqa: E731
        yield Front("haproxy", port, target, weights, reset)


@contextlib.contextmanager
def envoy(d: Path, baseline: int, canary: int) -> Iterator[Front]:
    (d / "rds").mkdir(parents=True, exist_ok=True)
    port, admin = free_port(), free_port()
    rds = d / "rds" / "routes.json"
    admin_url = f"http://127.0.0.1:{admin}"
    clusters = {"baseline": "baseline", "canary": "canary"}
    router = EnvoyRouter(rds_file=rds, route_name="app", clusters=clusters, admin_url=admin_url)
    rds.write_text(router._render({Cohort.BASELINE: 1, Cohort.CANARY: 0}, "0"))
    (d / "envoy.json").write_text(json.dumps(_envoy_bootstrap(rds, port, admin, baseline, canary)))
    program = binary("envoy", str(Path(sys.executable).parent / "envoy"))
    command = [program, "-c", str(d / "envoy.json"), "--log-level", "warn"]
    command += ["--base-id-path", str(d / "base-id"), "--use-dynamic-base-id"]
    with running(command, d / "envoy.out") as proc:
        wait_until(lambda: answers(port), 10, "envoy", proc)

        def live_version() -> str:
            params = {"resource": "dynamic_route_configs"}
            dump = httpx.get(f"{admin_url}/config_dump", params=params, timeout=2).json()
            return str([c.get("version_info") for c in dump.get("configs", [])])

        target = {"kind": "envoy", "rds_file": str(rds), "route_name": "app",
                  "clusters": clusters, "admin_url": admin_url, "timeout": 5}  # fmt: skip
        reset = lambda: router.set_weights({"baseline": 100.0, "canary": 0.0})  # noqa: E731
        yield Front("envoy", port, target, live_version, reset, stats=f"127.0.0.1:{admin}")


def _envoy_bootstrap(rds: Path, port: int, admin: int, baseline: int, canary: int) -> Any:
    api = "type.googleapis.com/envoy.extensions.filters"

    def address(p: int) -> dict[str, Any]:
        return {"socket_address": {"address": "127.0.0.1", "port_value": p}}

    def cluster(name: str, p: int) -> dict[str, Any]:
        endpoints = [{"lb_endpoints": [{"endpoint": {"address": address(p)}}]}]
        return {"name": name, "type": "STATIC", "connect_timeout": "1s",
                "load_assignment": {"cluster_name": name, "endpoints": endpoints}}  # fmt: skip

    source = {"path": str(rds), "watched_directory": {"path": str(rds.parent)}}
    manager = {
        "@type": f"{api}.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "web",
        "rds": {"route_config_name": "app",
                "config_source": {"resource_api_version": "V3", "path_config_source": source}},
        "http_filters": [{"name": "envoy.filters.http.router",
                          "typed_config": {"@type": f"{api}.http.router.v3.Router"}}],
    }  # fmt: skip
    chain = {"filters": [{"name": "envoy.filters.network.http_connection_manager",
                          "typed_config": manager}]}  # fmt: skip
    return {
        "node": {"id": "sentra-demo", "cluster": "sentra-demo"},
        "admin": {"address": address(admin)},
        "static_resources": {
            "listeners": [{"name": "web", "address": address(port), "filter_chains": [chain]}],
            "clusters": [cluster("baseline", baseline), cluster("canary", canary)],
        },
    }


def start(
    kind: str, d: Path, baseline: int, canary: int
) -> contextlib.AbstractContextManager[Front]:
    """The front `kind` (one of FRONTS) with its files under `d`."""
    makers = {"nginx": nginx, "haproxy": haproxy, "envoy": envoy}
    return makers[kind](d / kind, baseline, canary)
