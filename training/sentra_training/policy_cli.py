"""The step-policy part of `sentra train`: read the service's past rollouts from the audit
database, learn its policy (with a progress bar), and the table that reports it."""

from __future__ import annotations

import math
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from sentra_ml.store.db import make_engine, session_factory
from sentra_training.progress import rich_progress
from sentra_training.rollout_history import past_rollouts
from sentra_training.series import InputError
from sentra_training.step_policy import (
    LearnedPolicy,
    PolicyOptions,
    learn_policy,
    simulations,
)
from sentra_training.traffic_profile import traffic_profile

err = Console(stderr=True, soft_wrap=True)


class AuditUnavailable(RuntimeError):
    """The audit database named by --database-url cannot be read; the message says why."""


def learn_from_audit(
    service: str, url: str, runs: int, seed: int, *, progress: bool, explicit: bool = False
) -> LearnedPolicy | None:
    """The service's learned policy; None (with a warning) when the audit database holds too
    few of its rollouts or, unless `explicit`, cannot be read (AuditUnavailable if it was)."""
    options = PolicyOptions(runs=runs, seed=seed)
    options.check()
    try:
        parsed = make_url(url)
    except ArgumentError:
        return _unusable(f"--database-url: {url!r} is not a database URL", explicit)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        return _unusable(f"--database-url: no audit database at {parsed.database}", explicit)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            past = past_rollouts(session=session, service=service)
    except SQLAlchemyError as e:
        why = f"--database-url: cannot read past rollouts ({e.__class__.__name__}: {e.args[0]})"
        return _unusable(why, explicit)
    finally:
        engine.dispose()
    try:
        traffic_profile(past, options.min_rollouts)
        first = next(r.spec for r in reversed(past) if r.promoted)
        if not progress:
            return learn_policy(past, options)
        total = simulations(first.policy, options)
        with rich_progress(f"learning {service}'s step policy", total) as advance:
            return learn_policy(past, options, advance)
    except InputError as e:
        _skip(str(e))
        return None


def _unusable(why: str, explicit: bool) -> LearnedPolicy | None:
    """A database the user named must work; Sentra's own may not exist yet (None)."""
    if explicit:
        raise AuditUnavailable(why)
    _skip(why)
    return None


def _skip(why: str) -> None:
    err.print(
        f"[yellow]no step policy learned:[/] {escape(why)}; the defaults stay", highlight=False
    )
    return None


def _seconds(s: float) -> str:
    return f"{s:.0f} s" if math.isfinite(s) else "never"


def policy_table(service: str, learned: LearnedPolicy) -> Table:
    """What was learned, and the simulated comparison with today's policy."""
    p, today, new = learned.profile, learned.today, learned.learned
    table = Table(title=f"Step policy of {service}")
    table.add_column("", style="bold")
    table.add_column("value", justify="right")
    per_weight = ", ".join(f"{r:.3g}/s at {w:g} %" for w, r in sorted(p.canary_rps.items())[:4])
    rows = [
        ("past rollouts", f"{p.rollouts} ({p.promoted} promoted)"),
        ("traffic", f"{p.total_rps:.3g} req/s; canary {per_weight}"),
        ("noisy metrics", ", ".join(learned.profile.noisy_metrics()) or "none"),
        ("promoted in (recorded median)", _seconds(p.promote_seconds)),
        (
            "learned steps",
            "/".join(f"{w:g}" for w in learned.fields["steps"])
            + f" %, hold {learned.fields['min_step_seconds']:g} s",
        ),
        (
            "healthy promoted in (simulated)",
            f"{_seconds(today.promote_seconds)} today -> {_seconds(new.promote_seconds)}",
        ),
        ("faulty caught (simulated)", f"{today.caught} -> {new.caught} of {today.faulty}"),
        (
            "failed beyond baseline (simulated)",
            f"{today.excess_failed:.1f} -> {new.excess_failed:.1f}",
        ),
        ("false rollbacks (simulated)", f"{today.false_rollbacks} -> {new.false_rollbacks}"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    return table
