"""The fault suite's own Redis and MariaDB, on free ports in a test's folder: stopped, frozen
and restarted by the tests, never the shared servers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(check: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except Exception:  # not up yet
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not come up in {seconds:g} s")


class OwnRedis:
    """A redis-server without persistence (as this machine's): a restart comes back empty."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.folder)]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        _wait(lambda: redis.Redis(port=self.port, socket_timeout=1).ping(), 10, "redis")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def restart_empty(self) -> None:
        self.stop()
        self.start()

    def freeze(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)


class OwnMariaDB:
    """A private mariadbd (latin1 by default, like any `--no-defaults` instance)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "mariadb"
        self.port = free_port()
        self.url = f"mysql+pymysql://root@127.0.0.1:{self.port}/sentra"
        self.proc: subprocess.Popen[bytes] | None = None

    def install(self) -> None:
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={self.data}", "--user=root",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True, capture_output=True,
        )  # fmt: skip

    def start(self) -> None:
        argv = ["/usr/sbin/mariadbd", "--no-defaults", f"--datadir={self.data}",
                f"--port={self.port}", "--bind-address=127.0.0.1", "--user=root",
                f"--socket={self.folder / 'mariadb.sock'}", "--skip-log-bin",
                "--innodb-buffer-pool-size=32M"]  # fmt: skip
        self.proc = subprocess.Popen(
            argv, stdout=(self.folder / "mariadb.log").open("ab"), stderr=subprocess.STDOUT
        )
        import pymysql

        def up() -> bool:
            pymysql.connect(host="127.0.0.1", port=self.port, user="root").close()
            return True

        _wait(up, 30, "mariadb")
        conn = pymysql.connect(host="127.0.0.1", port=self.port, user="root")
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE IF NOT EXISTS sentra")
        conn.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@contextlib.contextmanager
def own_redis(folder: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(folder)
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.thaw()
        server.stop()


@contextlib.contextmanager
def own_mariadb(folder: Path) -> Iterator[OwnMariaDB]:
    server = OwnMariaDB(folder)
    server.install()
    server.start()
    try:
        yield server
    finally:
        server.stop()
