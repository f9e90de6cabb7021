"""Liveness, readiness and Prometheus metrics: the only routes that need no token."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from sentra_ml.api.deps import ServicesDep
from sentra_ml.api.schemas import Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={
        200: {"model": Readiness},
        503: {"model": Readiness, "description": "a dependency is unreachable"},
    },
)
def readyz(svc: ServicesDep) -> JSONResponse:
    """The database and the bus (Redis) answer."""
    checks = {"database": _database_ok(svc), "bus": svc.bus.ping()}
    code = status.HTTP_200_OK if all(checks.values()) else status.HTTP_503_SERVICE_UNAVAILABLE
    return JSONResponse({"ready": all(checks.values()), "checks": checks}, status_code=code)


def _database_ok(svc: ServicesDep) -> bool:
    try:
        with svc.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means "not ready"
        return False


@router.get("/metrics", response_class=Response)
def metrics(svc: ServicesDep) -> Response:
    """Request latency, one-shot verdicts, ingest rate; the in-process controller's metrics."""
    return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)
