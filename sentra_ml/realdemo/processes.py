"""Child processes of a real run: started with a log file, waited for, always stopped."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import httpx


class StackError(RuntimeError):
    """A part of the real loop is missing or did not come up; the message says which."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def binary(name: str, *fallbacks: str) -> str:
    """The path of program `name`, or StackError naming the package that provides it."""
    found = shutil.which(name) or next((p for p in fallbacks if Path(p).exists()), None)
    if found is None:
        raise StackError(f"{name} is not installed (Debian: apt-get install {name})")
    return found


def wait_until(
    check: Callable[[], object], seconds: float, what: str, proc: subprocess.Popen[bytes] | None
) -> None:
    """Polls `check` until it is truthy; StackError if `seconds` pass or `proc` exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(f"{what}: the process exited with status {proc.returncode}")
        try:
            if check():
                return
        except (OSError, httpx.HTTPError, ValueError):
            pass  # not up yet (refused, reset, or a half-written answer)
        time.sleep(0.05)
    raise StackError(f"{what}: not ready after {seconds:g} s")


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


@contextlib.contextmanager
def running(
    command: Sequence[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`command` as a child writing to `log`; terminated (then killed) when the context ends."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Supervisor:
    """Keeps `command` running as Kubernetes restarts a crashing container: `restart_delay`
    seconds after its first exit, doubling after each further exit up to `max_delay`
    (CrashLoopBackOff), back to `restart_delay` once a process has run for `max_delay`."""

    def __init__(
        self,
        command: Sequence[str],
        log: Path,
        restart_delay: float = 3.0,
        max_delay: float = 60.0,
    ) -> None:
        self.command = list(command)
        self.log = log
        self.restart_delay = restart_delay
        self.max_delay = max_delay
        self.restarts = 0
        self._delay = restart_delay
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.proc = self._spawn()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def replace(self, command: Sequence[str]) -> None:
        """Run `command` from its next start on (the current process keeps running)."""
        with self._lock:
            self.command = list(command)

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:
            return subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT)

    def _watch(self) -> None:
        while not self._stop.is_set():
            if self.proc.poll() is not None:
                if time.monotonic() - self._started >= self.max_delay:
                    self._delay = self.restart_delay  # it ran long enough: not a crash loop
                if self._stop.wait(self._delay):
                    break
                with self._lock:
                    self.proc = self._spawn()
                    self._started = time.monotonic()
                    self.restarts += 1
                self._delay = min(2 * self._delay, self.max_delay)
            self._stop.wait(0.05)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        stop(self.proc)
