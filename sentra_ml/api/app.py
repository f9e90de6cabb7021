"""The app factory: `create_app(settings)` builds everything; nothing happens at import time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from importlib.metadata import version

from fastapi import FastAPI

from sentra_ml.api import errors, outages
from sentra_ml.api.auth import TokenCache
from sentra_ml.api.deps import Services
from sentra_ml.api.error_responses import document_errors
from sentra_ml.api.limits import BodyLimit
from sentra_ml.api.live import LiveRollouts
from sentra_ml.api.loop import evaluation_loop
from sentra_ml.api.metrics import Metrics, RequestTimer
from sentra_ml.api.routes import admin, health, integrations, otlp, rollouts, stream, verdicts
from sentra_ml.settings import Settings
from sentra_ml.store.bus import Bus, InProcessBus, RedisBus
from sentra_ml.store.db import make_engine, session_factory, upgrade
from sentra_ml.store.learners import BusLearnerStore, FileLearnerStore, LearnerStore


def make_bus(settings: Settings) -> Bus:
    return RedisBus(settings.redis_url) if settings.redis_url else InProcessBus()


def make_learner_store(settings: Settings, bus: Bus) -> LearnerStore | None:
    """Redis when replicas share one, else files under `data_dir`; None when turned off."""
    if not settings.service_learner:
        return None
    if settings.redis_url:
        return BusLearnerStore(bus)
    return FileLearnerStore(settings.data_dir / "learners")


def build_services(settings: Settings) -> Services:
    """Connect to the database (migrated to the newest schema) and the bus."""
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine)
    sessions = session_factory(engine)
    bus = make_bus(settings)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        bus=bus,
        live=LiveRollouts(
            sessions=sessions,
            bus=bus,
            interval=settings.evaluation_interval_seconds,
            learners=make_learner_store(settings, bus),
        ),
        metrics=Metrics(),
        tokens=TokenCache(sessions),
    )


def create_app(settings: Settings, *, run_loop: bool = True) -> FastAPI:
    """The service. `run_loop=False` leaves judging to the caller (tests drive `run_round`)."""
    services = build_services(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(evaluation_loop(services)) if run_loop else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            services.live.close()
            services.bus.close()
            services.engine.dispose()

    app = FastAPI(
        title="Sentra",
        version=version("sentra-ml"),
        description="Live telemetry into promote / continue / pause / rollback verdicts.",
        lifespan=lifespan,
    )
    app.state.services = services
    errors.install(app)
    outages.install(app)
    for module in (health, verdicts, rollouts, otlp, stream, integrations, admin):
        app.include_router(module.router)
    document_errors(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestTimer, metrics=services.metrics)
    return app
