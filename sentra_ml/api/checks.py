"""What a rollout takes from pushed telemetry: known metrics, the form each kind takes, and
times neither too far ahead nor too far behind the service's clock."""

from __future__ import annotations

from collections.abc import Sequence

from sentra_ml.analysis.types.errors import SampleError
from sentra_ml.analysis.types.labels import MetricKind
from sentra_ml.analysis.types.specs import RolloutSpec
from sentra_ml.spec import TelemetryLine, clip

MAX_FUTURE_SECONDS = 60.0
MAX_PAST_SECONDS = 3600.0

_FORMS = {
    MetricKind.RATIO: ("total/failed",),
    MetricKind.LATENCY: ("values", "buckets"),
    MetricKind.GAUGE: ("value",),
}


def check_lines(spec: RolloutSpec, lines: Sequence[TelemetryLine], now: float) -> None:
    """Refuse the whole batch at its first bad line: `lines.3.metric: unknown metric 'x'`."""
    kinds = {m.name: m.kind for m in spec.metrics}
    for i, line in enumerate(lines):
        where = f"lines.{i}"
        kind = kinds.get(line.metric)
        if kind is None:
            raise SampleError(
                f"{where}.metric: unknown metric '{clip(line.metric)}' "
                f"(known: {clip(', '.join(kinds), 200)})"
            )
        late = stale_ts(line.ts, now)
        if late is not None:
            raise SampleError(f"{where}.ts: {late}")
        form = _form(line)
        if form not in _FORMS[kind]:
            raise SampleError(
                f"{where}: '{line.metric}' is a {kind} metric and takes "
                f"{' or '.join(_FORMS[kind])}, got {form}"
            )
        if line.counter and form != "total/failed":
            # buckets and values are the interval's own: a counter reading of them would be
            # taken for one interval's requests, so it is refused rather than dropped
            raise SampleError(
                f"{where}.counter: only total/failed readings take counter: true, got {form} "
                "(send each interval's own buckets or values)"
            )
        try:
            if line.counter:
                total, failed = line.total or 0.0, line.failed or 0.0
                if failed > total:
                    raise SampleError(f"failed: {failed} exceeds total {total}")
            else:
                line.to_sample()
        except SampleError as err:
            raise SampleError(f"{where}.{err}") from None


def stale_ts(ts: float, now: float) -> str | None:
    """Why telemetry at `ts` is not taken at `now` (too far ahead or behind), or None.

    The rule, not the value: `ts` may be 1e308, whose digits would fill the message. A `ts`
    near `now` in milliseconds (or micro-, nanoseconds) is the commonest mistake: said so."""
    for unit, factor in (("milliseconds", 1e3), ("microseconds", 1e6), ("nanoseconds", 1e9)):
        if abs(ts / factor - now) <= MAX_PAST_SECONDS:
            return f"looks like {unit}; ts are unix seconds"
    if ts > now + MAX_FUTURE_SECONDS:
        return f"more than {MAX_FUTURE_SECONDS:.0f} s in the future (ts are unix seconds)"
    if ts < now - MAX_PAST_SECONDS:
        return f"more than {MAX_PAST_SECONDS:.0f} s in the past (ts are unix seconds)"
    return None


def _form(line: TelemetryLine) -> str:
    present = [
        name
        for name, value in (
            ("total/failed", line.total if line.total is not None else line.failed),
            ("values", line.values),
            ("buckets", line.buckets),
            ("value", line.value),
        )
        if value is not None
    ]
    return present[0] if len(present) == 1 else (" and ".join(present) or "no value")
