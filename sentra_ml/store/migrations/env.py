"""Alembic environment: run against the connection that `sentra_ml.store.db.upgrade` passes in."""

from __future__ import annotations

from alembic import context

from sentra_ml.store.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
