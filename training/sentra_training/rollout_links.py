"""Which of Sentra's rollouts a model version is tied to, read from the audit database: those
whose time overlaps the history it was trained on, and those judged with it (their decisions
name the version: `sentra-judge X, learner sentra-<service>/<version>`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from sentra_ml.store.db import make_engine
from sentra_ml.store.model_registry import model_name
from sentra_ml.store.schema import Decision, Rollout


class RolloutsUnavailable(RuntimeError):
    """The audit database could not be read; the message names it and the cause."""


@dataclass(frozen=True)
class RolloutRef:
    """A rollout as a model version refers to it; `state` is its outcome once it has ended."""

    id: str
    state: str
    baseline_version: str
    canary_version: str
    created_at: float
    updated_at: float
    decisions: int = 0  # decisions made with the version (judged-with rollouts only)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _absent(url: str) -> bool:
    """An embedded SQLite database that was never created holds no rollouts (and reading it
    must not create it)."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and not (
        parsed.database and parsed.database != ":memory:" and Path(parsed.database).is_file()
    )


def _read(url: str, query: Any) -> Sequence[Any]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return session.execute(query).all()
    except SQLAlchemyError as e:
        where = make_url(url).render_as_string(hide_password=True)
        raise RolloutsUnavailable(f"audit database {where}: {e.__class__.__name__}: {e}") from None
    finally:
        engine.dispose()


def rollouts_covered(url: str, service: str, start: float, end: float) -> list[RolloutRef]:
    """The service's rollouts that ran during [start, end], oldest first."""
    if _absent(url):
        return []
    rows = _read(
        url,
        select(Rollout)
        .where(Rollout.service == service, Rollout.created_at <= end, Rollout.updated_at >= start)
        .order_by(Rollout.created_at, Rollout.id),
    )
    return [
        RolloutRef(r.id, r.state, r.baseline_version, r.canary_version, r.created_at, r.updated_at)
        for (r,) in rows
    ]


def rollouts_judged_with(url: str, service: str, version: int) -> list[RolloutRef]:
    """The service's rollouts with decisions made by `sentra-<service>/<version>`, oldest first."""
    if _absent(url):
        return []
    suffix = f"learner {model_name(service)}/{version}"
    counts = (
        select(Decision.rollout_id, func.count().label("n"))
        .where(Decision.model_version.endswith(suffix, autoescape=True))
        .group_by(Decision.rollout_id)
        .subquery()
    )
    rows = _read(
        url,
        select(Rollout, counts.c.n)
        .join(counts, counts.c.rollout_id == Rollout.id)
        .where(Rollout.service == service)
        .order_by(Rollout.created_at, Rollout.id),
    )
    return [
        RolloutRef(
            r.id, r.state, r.baseline_version, r.canary_version, r.created_at, r.updated_at, n
        )
        for r, n in rows
    ]
