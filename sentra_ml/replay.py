"""Shadow analysis: recorded telemetry streamed through the judge as if it were live."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sentra_ml.analysis.types.errors import SampleError
from sentra_ml.analysis.types.samples import Sample
from sentra_ml.analysis.types.specs import RolloutSpec
from sentra_ml.analysis.types.verdict import Verdict
from sentra_ml.ingest import CounterIngest
from sentra_ml.judge_session import JudgeSession
from sentra_ml.spec import read_line


class ReplayError(ValueError):
    """The input cannot be replayed; the message names the line and the problem."""


@dataclass
class ReplayReport:
    lines: int = 0
    samples: int = 0
    evaluations: int = 0
    skipped: list[str] = field(default_factory=list)
    final: Verdict | None = None


def read_samples(lines: Iterable[str], report: ReplayReport, *, skip_bad: bool) -> Iterator[Sample]:
    """Parse JSON lines; a bad line is skipped (and reported) or stops the replay."""
    ingest = CounterIngest()
    for number, text in enumerate(lines, start=1):
        report.lines = number
        if not text.strip():
            continue
        try:
            sample = ingest.sample(read_line(text))
        except SampleError as err:
            message = f"line {number}: {err}"
            if not skip_bad:
                raise ReplayError(message) from None
            report.skipped.append(message)
            continue
        report.samples += 1
        if sample is not None:
            yield sample


def replay(
    spec: RolloutSpec,
    samples: Iterable[Sample],
    *,
    every: float = 2.0,
    on_verdict: Callable[[Verdict], None],
    report: ReplayReport | None = None,
    skip_bad: bool = False,
) -> ReplayReport:
    """Evaluate every `every` seconds of telemetry time, up to the first final verdict.

    Samples should come in time order; a late sample is counted in the next evaluation.
    """
    report = report or ReplayReport()

    def judged(verdict: Verdict) -> None:
        report.evaluations += 1
        report.final = verdict
        on_verdict(verdict)

    session: JudgeSession | None = None
    for sample in samples:
        if session is None:
            session = JudgeSession.starting(spec, sample.ts, interval=every)
        for verdict in session.due(sample.ts):
            judged(verdict)
        if session.decided:
            return report
        try:
            session.observe(sample)
        except SampleError as err:
            message = f"sample at ts={sample.ts}: {err}"
            if not skip_bad:
                raise ReplayError(message) from None
            report.skipped.append(message)
    last = None if session is None else session.close()
    if last is not None:
        judged(last)
    return report


def verdict_json(verdict: Verdict) -> str:
    """One decision as a JSON line (without the newline)."""
    return json.dumps(verdict.to_dict(), allow_nan=False)


def replay_file(
    spec: RolloutSpec,
    source: IO[str],
    output: Path | None,
    *,
    every: float = 2.0,
    skip_bad: bool = False,
    on_verdict: Callable[[Verdict], None] | None = None,
) -> ReplayReport:
    """Replay a JSON-lines stream into `output` (written whole or not at all)."""
    report = ReplayReport()
    target: IO[str] | None = None
    tmp_name = ""
    if output is not None:
        fd, tmp_name = tempfile.mkstemp(prefix=".replay-", dir=output.parent or Path("."))
        target = os.fdopen(fd, "w")

    def emit(verdict: Verdict) -> None:
        if target is not None:
            target.write(verdict_json(verdict) + "\n")
        if on_verdict is not None:
            on_verdict(verdict)

    try:
        samples = read_samples(source, report, skip_bad=skip_bad)
        replay(spec, samples, every=every, on_verdict=emit, report=report, skip_bad=skip_bad)
    except BaseException:
        if target is not None:
            target.close()
            os.unlink(tmp_name)
        raise
    if target is not None and output is not None:
        target.close()
        os.replace(tmp_name, output)
    return report
