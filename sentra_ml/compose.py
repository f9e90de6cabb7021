"""The composition root: the API and the controller in one process, or each on its own.

The API and the controller never import each other (they meet in the database and on the bus);
only this module and the CLI know both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from fastapi import FastAPI
from sentra_controller.controller import Controller
from sentra_controller.metrics import ControllerMetrics
from sentra_controller.scheduler import Scheduler

from sentra_ml.api.app import create_app, make_bus, make_learner_store
from sentra_ml.api.deps import Services
from sentra_ml.settings import Settings, get_settings
from sentra_ml.store.db import make_engine, session_factory, upgrade


def controller_on(services: Services, *, own_metrics: bool = False) -> Controller:
    """A controller sharing the API's database, bus and learner store, and its metrics
    registry unless `own_metrics` (a second controller on the same API)."""
    s = services.settings
    return Controller(
        sessions=services.sessions,
        bus=services.bus,
        interval=s.evaluation_interval_seconds,
        lease_seconds=s.lease_seconds,
        learners=services.learners,
        metrics=ControllerMetrics(None if own_metrics else services.metrics.registry),
        live=services.live,
        series_retention_seconds=s.series_retention_days * 86400,
    )


@contextlib.contextmanager
def in_process_controller(services: Services) -> Iterator[Scheduler]:
    """Run a controller beside the API for as long as the context lasts."""
    scheduler = Scheduler(controller_on(services))
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.stop()


def app_with_controller() -> FastAPI:
    """`sentra serve`: the API and its in-process controller (uvicorn factory)."""
    return create_app(get_settings(), companion=in_process_controller)


def standalone_controller(settings: Settings, metrics: ControllerMetrics) -> Controller:
    """`sentra controller`: its own connections to the shared database and bus."""
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine)
    bus = make_bus(settings)
    return Controller(
        sessions=session_factory(engine),
        bus=bus,
        interval=settings.evaluation_interval_seconds,
        lease_seconds=settings.lease_seconds,
        learners=make_learner_store(settings, bus),
        metrics=metrics,
        series_retention_seconds=settings.series_retention_days * 86400,
    )
