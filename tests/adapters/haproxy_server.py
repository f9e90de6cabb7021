"""A private HAProxy (master-worker, own socket and ports) balancing two named backends."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from adapter_servers import backend, free_port, get, process, require_binary, wait_until
from sentra_adapters.traffic.haproxy import HAProxyRouter

_CONF = """
global
    stats socket {dir}/admin.sock mode 600 level admin
    server-state-file {dir}/servers.state
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    load-server-state-from-file global
frontend web
    bind 127.0.0.1:{port}
    default_backend app
backend app
    balance roundrobin
    server baseline 127.0.0.1:{baseline} weight 1
    server canary 127.0.0.1:{canary} weight 0
"""


@dataclass(frozen=True)
class HAProxySetup:
    port: int
    router: HAProxyRouter
    master_pid: int

    def worker_pid(self) -> int:
        info = self.router.command("show info")
        return int(next(ln for ln in info.splitlines() if ln.startswith("Pid:")).split()[1])

    def reload(self) -> float:
        """Reloads HAProxy (SIGUSR2 to the master); seconds until the new worker answers."""
        old = self.worker_pid()
        start = time.monotonic()
        os.kill(self.master_pid, signal.SIGUSR2)
        wait_until(lambda: self.worker_pid() != old, 10, "haproxy's reload")
        return time.monotonic() - start


@contextlib.contextmanager
def running_haproxy(directory: Path) -> Iterator[HAProxySetup]:
    """HAProxy started in the foreground with all traffic on the baseline."""
    binary = require_binary("haproxy", "/usr/sbin/haproxy")
    port = free_port()
    with backend("baseline") as base_port, backend("canary") as canary_port:
        conf = directory / "haproxy.cfg"
        conf.write_text(
            _CONF.format(dir=directory, port=port, baseline=base_port, canary=canary_port)
        )
        router = HAProxyRouter(
            socket=directory / "admin.sock",
            backend="app",
            servers={"baseline": "baseline", "canary": "canary"},
            state_file=directory / "servers.state",
        )
        with process([binary, "-W", "-db", "-f", str(conf)], directory / "haproxy.log") as proc:
            wait_until(lambda: get(port) == "baseline", 10, "haproxy to serve", proc=proc)
            yield HAProxySetup(port, router, proc.pid)
