"""The app factory: `create_app(settings)` builds everything; nothing happens at import time."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from importlib.metadata import version

from fastapi import FastAPI

from sentra_ml.api import errors, outages
from sentra_ml.api.auth import TokenCache
from sentra_ml.api.deps import Services
from sentra_ml.api.error_responses import document_errors
from sentra_ml.api.limits import BodyLimit
from sentra_ml.api.metrics import Metrics, RequestTimer
from sentra_ml.api.routes import (
    admin,
    health,
    integrations,
    otlp,
    rollouts,
    series,
    stream,
    ui,
    verdicts,
)
from sentra_ml.settings import Settings
from sentra_ml.store.bus import Bus, InProcessBus, RedisBus
from sentra_ml.store.db import make_engine, session_factory, upgrade
from sentra_ml.store.learners import BusLearnerStore, FileLearnerStore, LearnerStore
from sentra_ml.store.live_state import LiveState
from sentra_ml.store.model_loader import ModelLoader, PublishedLearnerStore, default_model

Companion = Callable[[Services], contextlib.AbstractContextManager[object]]


def make_bus(settings: Settings) -> Bus:
    return RedisBus(settings.redis_url) if settings.redis_url else InProcessBus()


def make_learner_store(settings: Settings, bus: Bus) -> LearnerStore | None:
    """Redis when replicas share one, else files under `data_dir`; None when turned off. With a
    model registry, services start from their published models (`PublishedLearnerStore`)."""
    if not settings.service_learner:
        return None
    store: LearnerStore = (
        BusLearnerStore(bus)
        if settings.redis_url
        else FileLearnerStore(settings.data_dir / "learners")
    )
    uri = settings.model_registry_uri()
    if uri is None:
        return store
    loader = ModelLoader(uri, poll_seconds=settings.model_poll_seconds)
    return PublishedLearnerStore(store, loader, default_model(settings.default_model_dir))


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
        live=LiveState(bus),
        learners=make_learner_store(settings, bus),
        metrics=Metrics(),
        tokens=TokenCache(sessions),
    )


def create_app(settings: Settings, *, companion: Companion | None = None) -> FastAPI:
    """The service: it validates and stores rollouts, telemetry and manual actions, and reads
    verdicts; controllers judge and act (they meet it in the database and on the bus).
    `companion` runs beside it for the app's lifetime, on its services (the CLI's in-process
    controller)."""
    services = build_services(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with contextlib.ExitStack() as stack:
            if companion is not None:
                stack.enter_context(companion(services))
            try:
                yield
            finally:
                stack.close()
                if isinstance(services.learners, PublishedLearnerStore):
                    services.learners.close()  # its registry poll
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
    for module in (health, verdicts, rollouts, series, otlp, stream, integrations, admin):
        app.include_router(module.router)
    ui.install(app)
    document_errors(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestTimer, metrics=services.metrics)
    return app
