"""Rich progress bars on stderr for long offline work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sentra_training.series import Progress


@contextmanager
def rich_progress(description: str, total_rows: int) -> Iterator[Progress]:
    """A rich progress bar on stderr; yields a callback taking rows done since the last call."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total_rows)
        yield lambda rows: progress.advance(task, rows)
