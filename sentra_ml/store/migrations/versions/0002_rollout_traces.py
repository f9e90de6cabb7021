"""Rollouts: where to search example traces of a regressed metric (Tempo).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rollouts", sa.Column("traces", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("rollouts", "traces")
