"""Rollout series: per judging interval, each metric's cohort values, effect and forecast, and
the rollout's weight, risk, score and anomaly scores (the dashboard's charts).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "series_points",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("rollout_id", sa.String(32), sa.ForeignKey("rollouts.id"), nullable=False),
        sa.Column("ts", sa.Double(), nullable=False),
        sa.Column("metric", sa.String(200), nullable=False),
        sa.Column("cohort", sa.String(40), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("low", sa.Double(), nullable=True),
        sa.Column("high", sa.Double(), nullable=True),
        sa.Column("count", sa.Double(), nullable=True),
        sa.Column("flagged", sa.Boolean(), nullable=True),
    )
    op.create_index("ix_series_points_rollout_id_id", "series_points", ["rollout_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_series_points_rollout_id_id", "series_points")
    op.drop_table("series_points")
