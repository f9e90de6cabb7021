"""Local stand-ins for Loki's ``query_range`` and Tempo's ``/api/search``, computing their
answers from stored log lines and traces, and checking the parameters they receive.

Loki (``GET /loki/api/v1/query_range``): ``start``/``end`` parsed as Loki does (nanosecond epoch,
float seconds, RFC 3339), ``step`` as float seconds or a duration; more than 11,000 points, an end
before the start, or LogQL outside ``sum(count_over_time({matchers} filters [range]))`` is a
400 with a plain-text body, as Loki answers. Each point counts the matching lines in
``(t - range, t]``; an evaluation without lines has no point. A `tenant` makes
``X-Scope-OrgID`` required (401 "no org id" without it).

Tempo (``GET /api/search``): ``q`` in a TraceQL subset (one spanset of ``&&``-joined conditions
on attributes, ``status``, ``kind``, ``duration``), ``start``/``end`` in Unix seconds,
``limit``; traces whose root starts in the range and have a span matching every condition,
most recent first, in Tempo's JSON (``traces``, ``spanSet``, ``metrics``).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_LOGQL = re.compile(
    r'^sum\(count_over_time\(\{(?P<selector>[^}]*)\}(?P<filters>(?:\s*(?:\|=|!=|\|~|!~)\s*"[^"]*")*)'
    r"\s*\[(?P<range>\d+(?:ms|s|m))\]\)\)$"
)
_MATCHER = re.compile(r'^\s*([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"([^"]*)"\s*$')
_FILTER = re.compile(r'(\|=|!=|\|~|!~)\s*"([^"]*)"')
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0}
_CONDITION = re.compile(
    r"^(?P<name>(?:resource|span)\.[\w.]+|\.[\w.]+|status|kind|duration)\s*"
    r'(?P<op>=|!=|>=|<=|>|<)\s*(?P<value>"[^"]*"|\d+(?:\.\d+)?(?:ms|s)?|[a-z]+)$'
)


class HTTPError(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


@dataclass
class Span:
    attributes: dict[str, Any]  # "resource.service.version", "span.http.status_code"...
    duration_ms: float
    status: str = "unset"  # TraceQL's intrinsic: error, ok, unset
    kind: str = "server"


@dataclass
class Trace:
    trace_id: str
    start: float  # Unix seconds
    duration_ms: int
    spans: list[Span]
    root_service: str = "shop"
    root_name: str = "GET /cart"


@dataclass
class FakeLokiTempo:
    """Log lines (Unix seconds, labels, text) and traces; the query strings received."""

    url: str = ""
    lines: list[tuple[float, dict[str, str], str]] = field(default_factory=list)
    traces: list[Trace] = field(default_factory=list)
    tenant: str | None = None
    received: list[dict[str, str]] = field(default_factory=list)

    def answer(self, path: str, query: dict[str, str], headers: Any) -> tuple[int, Any]:
        self.received.append({"path": path, **query})
        try:
            if self.tenant is not None and headers.get("X-Scope-OrgID") != self.tenant:
                raise HTTPError(401, "no org id")
            if path == "/loki/api/v1/query_range":
                return 200, self._loki(query)
            if path == "/api/search":
                return 200, self._tempo(query)
            raise HTTPError(404, "404 page not found")
        except HTTPError as e:
            return e.code, e.text

    def _loki(self, query: dict[str, str]) -> dict[str, Any]:
        start, end = _loki_time(query.get("start", "")), _loki_time(query.get("end", ""))
        step = _seconds(query.get("step", ""))
        if end < start:
            raise HTTPError(400, "end timestamp must not be before or equal to start time")
        if step <= 0:
            raise HTTPError(400, "zero or negative query resolution step widths are not accepted")
        if (end - start) / step + 1 > 11_000:
            raise HTTPError(400, "exceeded maximum resolution of 11,000 points per timeseries. "
                                 "Try decreasing the query resolution (?step=XX)")  # fmt: skip
        match = _LOGQL.match(query.get("query", ""))
        if match is None:
            raise HTTPError(400, f"parse error : syntax error: unexpected {query.get('query')!r}")
        matchers = [_MATCHER.match(m) for m in match["selector"].split(",")]
        if not matchers or any(m is None for m in matchers):
            raise HTTPError(400, f"parse error : bad stream selector {match['selector']!r}")
        filters = _FILTER.findall(match["filters"])
        window = _seconds(match["range"])
        values = []
        for k in range(int((end - start) / step + 1e-9) + 1):
            t = start + k * step
            count = sum(
                1
                for ts, labels, text in self.lines
                if t - window < ts <= t
                and all(_label(labels, *m.groups()) for m in matchers if m)
                and all(_line(text, op, arg) for op, arg in filters)
            )
            if count:
                values.append([int(t) if t == int(t) else t, str(count)])
        result = [{"metric": {}, "values": values}] if values else []
        data = {"resultType": "matrix", "result": result, "stats": {"summary": {"execTime": 0.01}}}
        return {"status": "success", "data": data}

    def _tempo(self, query: dict[str, str]) -> dict[str, Any]:
        if not (query.get("start", "").isdigit() and query.get("end", "").isdigit()):
            raise HTTPError(400, "invalid start or end: must be Unix epoch seconds")
        start, end = int(query["start"]), int(query["end"])
        limit = query.get("limit", "20")
        if end < start or not limit.isdigit() or int(limit) < 1:
            raise HTTPError(400, f"invalid range {start}-{end} or limit {limit!r}")
        conditions = _traceql(query.get("q", ""))
        found = []
        for trace in sorted(self.traces, key=lambda t: -t.start):
            matched = [s for s in trace.spans if all(_holds(s, *c) for c in conditions)]
            if start <= trace.start <= end and matched:
                found.append(_search_result(trace, matched))
        metrics = {"inspectedBytes": "1024", "completedJobs": 1, "totalJobs": 1}
        return {"traces": found[: int(limit)], "metrics": metrics}


def _loki_time(value: str) -> float:
    """Loki's parseTimestamp: float seconds with a dot, else integer (nanoseconds when longer
    than 10 digits), else RFC 3339."""
    try:
        if "." in value:
            return float(value)
        number = int(value)
        return number / 1e9 if len(value) > 10 else float(number)
    except ValueError:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError as e:
            raise HTTPError(400, f"cannot parse {value!r} to a valid timestamp") from e


def _seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", value)
    if match is None:
        raise HTTPError(400, f"cannot parse {value!r} to a valid duration")
    return float(match[1]) * _UNITS[match[2] or "s"]


def _label(labels: dict[str, str], name: str, op: str, value: str) -> bool:
    have = labels.get(name, "")
    return {"=": have == value, "!=": have != value, "=~": bool(re.fullmatch(value, have)),
            "!~": not re.fullmatch(value, have)}[op]  # fmt: skip


def _line(text: str, op: str, arg: str) -> bool:
    return {"|=": arg in text, "!=": arg not in text, "|~": bool(re.search(arg, text)),
            "!~": not re.search(arg, text)}[op]  # fmt: skip


def _traceql(q: str) -> list[tuple[str, str, Any]]:
    body = q.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise HTTPError(400, f"invalid TraceQL query: parse error: {q!r}")
    conditions = []
    for part in body[1:-1].split("&&"):
        match = _CONDITION.match(part.strip())
        if match is None:
            raise HTTPError(400, f"invalid TraceQL query: parse error at {part.strip()!r}")
        raw = match["value"]
        value: Any = raw.strip('"') if raw.startswith('"') else raw
        if match["name"] == "duration":
            value = _seconds(raw) * 1000
        elif re.fullmatch(r"\d+(?:\.\d+)?", raw):
            value = float(raw)
        conditions.append((match["name"], match["op"], value))
    return conditions


def _holds(span: Span, name: str, op: str, value: Any) -> bool:
    if name in ("status", "kind"):
        have: Any = getattr(span, name)
    elif name == "duration":
        have = span.duration_ms
    elif name.startswith("."):  # either scope
        have = span.attributes.get(f"span{name}", span.attributes.get(f"resource{name}"))
    else:
        have = span.attributes.get(name)
    if have is None or isinstance(have, str) != isinstance(value, str):
        return False
    return {"=": have == value, "!=": have != value, ">": have > value, ">=": have >= value,
            "<": have < value, "<=": have <= value}[op]  # fmt: skip


def _search_result(trace: Trace, matched: list[Span]) -> dict[str, Any]:
    spans = [
        {
            "spanID": f"{i:016x}",
            "startTimeUnixNano": str(round(trace.start * 1e9)),
            "durationNanos": str(round(s.duration_ms * 1e6)),
            "attributes": [{"key": "status", "value": {"stringValue": s.status}}],
        }
        for i, s in enumerate(matched)
    ]
    result: dict[str, Any] = {
        "traceID": trace.trace_id.lstrip("0") or "0",  # as Tempo's search trims them
        "rootServiceName": trace.root_service,
        "rootTraceName": trace.root_name,
        "startTimeUnixNano": str(round(trace.start * 1e9)),
        "spanSet": {"spans": spans, "matched": len(spans)},
        "spanSets": [{"spans": spans, "matched": len(spans)}],
    }
    if trace.duration_ms:  # protobuf JSON omits zero values
        result["durationMs"] = trace.duration_ms
    return result


@contextlib.contextmanager
def running_loki_tempo() -> Iterator[FakeLokiTempo]:
    """The fake Loki and Tempo APIs on one free port of 127.0.0.1."""
    fake = FakeLokiTempo()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            code, answer = fake.answer(parts.path, query, self.headers)
            text = answer if isinstance(answer, str) else json.dumps(answer)
            data = (text + ("\n" if isinstance(answer, str) else "")).encode()
            self.send_response(code)
            kind = "text/plain; charset=utf-8" if isinstance(answer, str) else "application/json"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


# --- a Loki source on recent lines, for the contract suite ------------------------------------

LOKI_SELECTORS = {"baseline": 'app="shop", track="stable"', "canary": 'app="shop", track="canary"'}
LOKI_METRICS: list[dict[str, Any]] = [
    {"name": "errors", "kind": "ratio",
     "total": "sum(count_over_time({$selector}[$interval]))",
     "failed": 'sum(count_over_time({$selector} |= "error" [$interval]))'},
    {"name": "lines", "kind": "gauge",
     "value": 'sum(count_over_time({$selector} != "health" [$interval]))'},
]  # fmt: skip


@contextlib.contextmanager
def running_loki_source() -> Iterator[Any]:
    """The fake Loki with the last minute of lines of both cohorts (1 in 5 an error), and a
    LokiSource over LOKI_METRICS on it at 2 s intervals."""
    from sentra_adapters.telemetry.registry import sources

    with running_loki_tempo() as fake:
        now = time.time()
        for i in range(240):
            for track in ("stable", "canary"):
                text = "level=error" if i % 5 == 0 else "level=info"
                fake.lines.append((now - 60 + i * 0.25, {"app": "shop", "track": track}, text))
        yield sources.create(
            "loki", url=fake.url, cohorts=LOKI_SELECTORS, metrics=LOKI_METRICS, step=2.0
        )
