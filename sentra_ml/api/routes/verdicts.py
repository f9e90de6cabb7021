"""One-shot judgement of two cohorts' windows, like a Kayenta canary judgement (stateless).

The service's saved learner, if any, takes part on a copy: a one-shot body never changes it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status

from sentra_ml.analysis.types.errors import SampleError, SpecError
from sentra_ml.api.deps import ServicesDep, Viewer
from sentra_ml.api.schemas import VerdictRequest
from sentra_ml.judge_session import JudgeSession
from sentra_ml.store.learners import saved_learner

router = APIRouter(prefix="/v1", tags=["verdicts"])


@router.post("/verdicts", responses={422: {"description": "bad spec or telemetry"}})
def judge_once(body: VerdictRequest, svc: ServicesDep, _: Viewer) -> dict[str, Any]:
    """Judge the telemetry in the body at `now` (default: its newest timestamp)."""
    try:
        spec = body.spec.to_spec()
    except SpecError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"spec: {err}") from None
    start = min(line.ts for line in body.lines)
    session = JudgeSession.starting(spec, start, saved_learner(svc.learners, spec.service))
    for i, line in sorted(enumerate(body.lines), key=lambda pair: pair[1].ts):
        try:
            session.observe_line(line)
        except SampleError as err:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"lines.{i}: {err}"
            ) from None
    newest = max(line.ts for line in body.lines)
    now = newest if body.now is None else body.now
    if now < start:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "now: must not be before the oldest line's ts"
        )
    verdict = session.evaluate(now).to_dict()
    svc.metrics.verdicts.labels(str(verdict["action"])).inc()
    return verdict
