"""HAProxy router: live ``set weight`` over the runtime API, persisted in a server-state file.

Runtime weights are lost on reload unless HAProxy loads a server-state file, so after each change
Sentra saves ``show servers state`` to the file named by ``server-state-file`` (with
``load-server-state-from-file global`` in the config).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import ClassVar

from sentra_adapters.errors import BadResponse, Rejected, Unavailable
from sentra_adapters.options import cohort_names
from sentra_adapters.traffic.base import HeldWeightsRouter
from sentra_adapters.traffic.files import exclusive, replace_atomically
from sentra_adapters.traffic.weights import (
    Weights,
    check_weights,
    integer_weights,
    percent,
)
from sentra_ml.analysis.types.labels import Cohort


class HAProxyRouter(HeldWeightsRouter):
    """Weights of two servers of one backend; HAProxy accepts 0-256, Sentra writes 0-200.

    `socket` is the admin-level stats socket: a path, or ``host:port`` for a TCP one.
    `servers` maps each cohort to its server name in `backend`.
    """

    kind: ClassVar[str] = "haproxy"
    resolution: ClassVar[float] = 0.5
    _scale: ClassVar[int] = 200  # within HAProxy's 0-256, and 0.5 % steps

    def __init__(
        self,
        *,
        socket: str | Path,
        backend: str,
        servers: Mapping[str, str],
        state_file: str | Path | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.socket = str(socket)
        self.backend = backend
        self.servers = cohort_names(self.kind, servers, "servers")
        self.state_file = None if state_file is None else Path(state_file)
        self.timeout = timeout

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Sets both weights, the rising one first so that the backend is never all at 0."""
        ints = integer_weights(self.kind, check_weights(self.kind, weights), self._scale)
        with self._exclusive():
            current = self._read()
            for cohort in sorted(ints, key=lambda c: ints[c] - current[c], reverse=True):
                answer = self.command(f"set weight {self._server(cohort)} {ints[cohort]}")
                if answer:
                    raise Rejected(self.kind, f"set weight {self._server(cohort)}: {answer}")
            self._save_state()

    def get_weights(self) -> Weights:
        """The live weights, from ``get weight``."""
        return percent(self.kind, self._read())

    def save_state(self) -> None:
        """Writes every backend's server state where HAProxy reads it on reload."""
        with self._exclusive():
            self._save_state()

    def _save_state(self) -> None:
        if self.state_file is None:
            return
        state = self.command("show servers state")
        if not state.startswith("1\n"):  # the file format's version line
            raise BadResponse(self.kind, f"unexpected server state {state[:60]!r}")
        replace_atomically(self.kind, self.state_file, state + "\n")

    def _exclusive(self) -> AbstractContextManager[None]:
        """One Sentra at a time changes the weights (locked next to the state file, if any)."""
        if self.state_file is None:
            return nullcontext()
        return exclusive(self.kind, self.state_file)

    def command(self, line: str) -> str:
        """One runtime API command; its answer without the trailing blank lines."""
        try:
            with _connect(self.socket, self.timeout) as conn:
                conn.sendall(line.encode() + b"\n")
                chunks = []
                while chunk := conn.recv(65536):
                    chunks.append(chunk)
        except (OSError, TimeoutError) as e:
            cause = getattr(e, "strerror", None) or repr(e)
            raise Unavailable(self.kind, f"stats socket {self.socket}: {cause}") from e
        return b"".join(chunks).decode(errors="replace").strip()

    def _read(self) -> dict[Cohort, int]:
        found: dict[Cohort, int] = {}
        for cohort in self.servers:
            answer = self.command(f"get weight {self._server(cohort)}")
            head = answer.split(" ", 1)[0]
            if not head.isdigit():
                raise Rejected(self.kind, f"get weight {self._server(cohort)}: {answer}")
            found[cohort] = int(head)
        return found

    def _server(self, cohort: Cohort) -> str:
        return f"{self.backend}/{self.servers[cohort]}"


def _connect(address: str, timeout: float) -> socket.socket:
    if address.startswith("/") or ":" not in address:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(timeout)
        try:
            conn.connect(address)
        except BaseException:
            conn.close()
            raise
        return conn
    host, _, port = address.rpartition(":")
    return socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
