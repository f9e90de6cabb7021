"""`sentra demo --real`: checks its arguments and the programs it needs, then runs the loop."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from rich.console import Console

from sentra_ml.realdemo.fronts import FRONTS
from sentra_ml.realdemo.processes import StackError


def real_demo(
    router: str, out: Path, *, short: bool, embedded: bool, only: list[str], err: Console
) -> int:
    """The exit status: 0 when every scenario ended as expected, 1 when one did not, 2 when
    the arguments or the machine cannot run the loop."""
    if router not in FRONTS:
        err.print(f"[bold red]error:[/] --router: must be one of {', '.join(FRONTS)}")
        return 2
    if out.exists() and not out.is_dir():
        err.print(f"[bold red]error:[/] --out: {out} is not a folder")
        return 2
    from sentra_ml.realdemo.run import run_real
    from sentra_ml.realdemo.scenarios import FULL, SHORT

    known = [s.name for s in (SHORT if short else FULL)]
    unknown = [name for name in only if name not in known]
    if unknown:
        err.print(f"[bold red]error:[/] --only: no scenario {unknown[0]!r}; known: {known}")
        return 2

    # a stopped run (SIGTERM) unwinds like Ctrl-C: no server is left behind
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        document = run_real(
            router, out, short=short, embedded=embedded, only=tuple(only), console=err
        )
    except StackError as e:
        err.print(f"[bold red]error:[/] {e}", highlight=False)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0 if all(s["passed"] for s in document["scenarios"]) else 1
