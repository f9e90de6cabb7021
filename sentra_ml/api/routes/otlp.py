"""OTLP/HTTP metrics push: `POST /v1/otlp/v1/metrics` (exporter endpoint `.../v1/otlp`).

Points become telemetry lines (see `sentra_adapters.telemetry.otlp` for the mapping) and take the
telemetry batch's path: checked, one log entry per rollout on the bus, judged by the lease
holder. Each cumulative stream's last point lives on the bus, so any replica can take the next.
Refused points are reported in `partial_success`; the rest are taken.
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections import Counter, defaultdict

from fastapi import APIRouter, Request, Response
from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from sentra_adapters.telemetry import otlp
from sqlalchemy import select

from sentra_ml.api.checks import stale_ts
from sentra_ml.api.deps import Operator, Services, ServicesDep
from sentra_ml.spec import clip, line_of
from sentra_ml.store import keys, telemetry_log
from sentra_ml.store.schema import Rollout
from sentra_ml.store.states import TERMINAL, State

router = APIRouter(prefix="/v1/otlp", tags=["otlp"])
PROTOBUF, JSON = "application/x-protobuf", "application/json"
MAX_REASONS = 5


class _Refused(Exception):
    def __init__(self, code: int, message: str) -> None:
        self.code, self.message = code, message


async def _body(request: Request) -> tuple[bytes, bool]:
    """The decompressed body and whether it is JSON; 415 and 413 as `_Refused`."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in (PROTOBUF, JSON):
        raise _Refused(415, f"content-type: {PROTOBUF} or {JSON}, got '{clip(media)}'")
    raw = await request.body()
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "gzip":
        limit = request.app.state.services.settings.max_body_bytes
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(raw, limit + 1)
        except zlib.error as err:
            raise _Refused(400, f"body: not valid gzip ({err})") from None
        if len(raw) > limit or inflater.unconsumed_tail:
            raise _Refused(413, f"body: larger than the limit of {limit} bytes once decompressed")
    elif encoding != "identity":
        raise _Refused(415, f"content-encoding: gzip or identity, got '{clip(encoding)}'")
    return raw, media == JSON


# the OpenAPI document: this route reads its body itself, and answers in the request's encoding
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_RPC_STATUS = {
    "type": "object",
    "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
    "required": ["code", "message"],
}
_STATUS = {JSON: {"schema": _RPC_STATUS}, PROTOBUF: _BINARY}


@router.post(
    "/v1/metrics",
    responses={
        200: {
            "description": "an ExportMetricsServiceResponse",
            "content": {JSON: {"schema": {"type": "object"}}, PROTOBUF: _BINARY},
        },
        400: {"description": "undecodable body (a google.rpc.Status)", "content": _STATUS},
        413: {
            "description": "the body is larger than the limit, also once decompressed",
            "content": {
                JSON: {
                    "schema": {"anyOf": [{"$ref": "#/components/schemas/ErrorOut"}, _RPC_STATUS]}
                },
                PROTOBUF: _BINARY,
            },
        },
        415: {"description": "unsupported content type or encoding", "content": _STATUS},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {JSON: {"schema": {"type": "object"}}, PROTOBUF: _BINARY},
        }
    },
)
async def export(request: Request, svc: ServicesDep, _: Operator) -> Response:
    """Take an ExportMetricsServiceRequest; answer an ExportMetricsServiceResponse."""
    json_encoded = "json" in request.headers.get("content-type", "").lower()
    try:
        body, json_encoded = await _body(request)
        decoded = otlp.parse_request(body, json_encoded)
    except _Refused as err:
        return _status(err.code, err.message, json_encoded)
    except otlp.OtlpDecodeError as err:
        return _status(400, str(err), json_encoded)
    points, refused = otlp.points(decoded)
    refused += await _run(svc, points)
    response = ExportMetricsServiceResponse()
    if refused:
        response.partial_success.rejected_data_points = sum(refused.values())
        response.partial_success.error_message = _summary(refused)
    if json_encoded:
        return Response(json_format.MessageToJson(response, indent=None), media_type=JSON)
    return Response(response.SerializeToString(), media_type=PROTOBUF)


async def _run(svc: Services, points: list[otlp.Point]) -> otlp.Refusals:
    return await asyncio.to_thread(ingest, svc, points, time.time())


def ingest(svc: Services, points: list[otlp.Point], now: float) -> otlp.Refusals:
    """Check, convert and log the points of each rollout; return the refused ones by reason."""
    refused: otlp.Refusals = Counter()
    by_rollout: dict[str, list[otlp.Point]] = defaultdict(list)
    for p in points:
        by_rollout[p.rollout].append(p)
    with svc.sessions() as session:
        rollouts = {
            r.id: (State(r.state), r.spec, r.created_at)
            for r in session.scalars(select(Rollout).where(Rollout.id.in_(list(by_rollout))))
        } if by_rollout else {}  # fmt: skip
    for rollout_id, mine in by_rollout.items():
        if rollout_id not in rollouts:
            refused[f"{otlp.ROLLOUT}: no rollout '{clip(rollout_id)}'"] += len(mine)
            continue
        state, spec_body, created_at = rollouts[rollout_id]
        if state in TERMINAL:
            refused[f"rollout '{rollout_id}' is {state.value}: telemetry is no longer taken"] += (
                len(mine)
            )
            continue
        refused += _ingest_rollout(svc, rollout_id, mine, spec_body, created_at, now)
    return refused


def _ingest_rollout(
    svc: Services, rollout_id: str, points: list[otlp.Point], spec_body: dict[str, object],
    created_at: float, now: float,
) -> otlp.Refusals:  # fmt: skip
    spec = svc.specs.spec(rollout_id, spec_body)
    kinds = {m.name: m.kind.value for m in spec.metrics}
    refused: otlp.Refusals = Counter()
    fitting = []
    for p in points:
        kind = kinds.get(p.metric)
        why = f"{p.metric}: not a metric of rollout '{rollout_id}'" if kind is None else None
        why = why or otlp.mismatch(p, kind or "")
        if why is None:
            fitting.append(p)
        else:
            refused[why[:300]] += 1
    fitting = _same_bounds(svc, rollout_id, fitting, refused)
    key = keys.otlp_streams(rollout_id)

    def swap(entries: list[tuple[str, str, str]]) -> list[tuple[str, str] | None]:
        return svc.bus.put_newer(key, entries, keys.LOG_TTL)

    steps, stale = otlp.increments(fitting, swap, int(created_at * 1e9))
    made, bad = otlp.samples(steps)
    lines = []
    for sample, n in made:  # kind and form already match and Sample checked its values
        late = stale_ts(sample.ts, now)
        if late is not None:
            refused[f"{sample.metric}: ts: {late}"[:300]] += n
        else:
            lines.append(line_of(sample))
    if lines:
        telemetry_log.append(svc.bus, rollout_id, lines)
        svc.metrics.ingested.inc(len(lines))
    return refused + stale + bad


def _same_bounds(
    svc: Services, rollout_id: str, points: list[otlp.Point], refused: otlp.Refusals
) -> list[otlp.Point]:
    """A latency metric keeps the bucket bounds it first got (the judge needs one layout)."""
    hists = [p for p in points if p.shape is otlp.Shape.HISTOGRAM]
    if not hists:
        return points
    entries = [(f"bounds:{p.metric}", "0", json.dumps(p.bounds)) for p in hists]
    first = svc.bus.put_newer(keys.otlp_streams(rollout_id), entries, keys.LOG_TTL)
    wrong = set()
    for p, (_, _, mine), before in zip(hists, entries, first, strict=True):
        if before is not None and before[1] != mine:
            refused[f"{p.metric}: bucket bounds differ from the first ones {before[1][:200]}"] += 1
            wrong.add(id(p))
    return [p for p in points if id(p) not in wrong]


def _summary(refused: otlp.Refusals) -> str:
    parts = [f"{n} point{'s' * (n != 1)}: {why}" for why, n in refused.most_common(MAX_REASONS)]
    if len(refused) > MAX_REASONS:
        parts.append(f"and {len(refused) - MAX_REASONS} more reasons")
    return "; ".join(parts)


def _status(code: int, message: str, json_encoded: bool) -> Response:
    """A google.rpc.Status body (code 3: INVALID_ARGUMENT), in the request's encoding."""
    if json_encoded or code == 415:
        return Response(json.dumps({"code": 3, "message": message}), code, media_type=JSON)
    text = message.encode()
    # google.rpc.Status {int32 code = 1; string message = 2}, encoded by hand: the service
    # depends on opentelemetry-proto, which does not ship the rpc protos
    body = b"\x08\x03\x12" + _varint(len(text)) + text
    return Response(body, code, media_type=PROTOBUF)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)
