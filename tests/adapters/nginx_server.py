"""A private NGINX (own prefix, pid, ports on 127.0.0.1) proxying to two named backends."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from adapter_servers import backend, free_port, get, process, require_binary, wait_until
from sentra_adapters.traffic.nginx import NginxRouter

_CONF = """
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    upstream app {{ include {prefix}/app.servers; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{ proxy_pass http://app; }}
    }}
}}
"""


@dataclass(frozen=True)
class NginxSetup:
    port: int
    router: NginxRouter
    master_pid: int

    def workers(self) -> set[int]:
        """The master's current worker processes (Linux /proc)."""
        children = Path(f"/proc/{self.master_pid}/task/{self.master_pid}/children").read_text()
        return {int(pid) for pid in children.split()}

    def wait_for_new_workers(self, old: set[int]) -> float:
        """Seconds until every worker is of the new generation (old ones stop accepting)."""
        start = time.monotonic()
        wait_until(lambda: (w := self.workers()) and not (w & old), 10, "nginx's reload")
        return time.monotonic() - start


@contextlib.contextmanager
def running_nginx(prefix: Path) -> Iterator[NginxSetup]:
    """NGINX started in the foreground with all traffic on the baseline."""
    binary = require_binary("nginx", "/usr/sbin/nginx")
    (prefix / "tmp").mkdir(parents=True)
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(_CONF.format(prefix=prefix, port=port))
    command = (binary, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log"))
    with backend("baseline") as base_port, backend("canary") as canary_port:
        router = NginxRouter(
            servers_file=prefix / "app.servers",
            servers={"baseline": f"127.0.0.1:{base_port}", "canary": f"127.0.0.1:{canary_port}"},
            nginx=command,
        )
        (prefix / "app.servers").write_text(
            f"server 127.0.0.1:{base_port} weight=1;\nserver 127.0.0.1:{canary_port} down;\n"
        )
        with process(command, prefix / "stdout.log") as proc:
            wait_until(lambda: get(port) == "baseline", 10, "nginx to serve", proc=proc)
            yield NginxSetup(port, router, proc.pid)
