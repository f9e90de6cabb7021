"""Config files a backend reads: replaced atomically, and written by one Sentra at a time."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sentra_adapters.errors import Conflict, Unavailable


def replace_atomically(backend: str, path: Path, text: str) -> None:
    """Writes `text` to `path` through a rename, so a reader never sees half a file."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(NameError, OSError):
            os.unlink(tmp)
        raise Unavailable(backend, f"cannot write {path}: {e.strerror or e}") from e


def read_text(path: Path) -> str | None:
    """The file's text, or None when it does not exist."""
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def exclusive(backend: str, path: Path) -> Iterator[None]:
    """Holds a lock next to `path`; a second writer gets Conflict instead of interleaving."""
    lock_path = path.with_name(f".{path.name}.lock")
    try:
        fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
    except OSError as e:
        raise Unavailable(backend, f"cannot open lock {lock_path}: {e.strerror or e}") from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise Conflict(backend, f"another update of {path} is in progress") from e
        yield
    finally:
        os.close(fd)
