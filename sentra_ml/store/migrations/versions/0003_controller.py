"""The controller: fencing tokens, verified weights and the ledger of router weight changes.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rollouts") as batch:
        batch.add_column(sa.Column("fence", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("applied_weight", sa.Double(), nullable=True))
        batch.add_column(sa.Column("ending", sa.String(20), nullable=True))
    op.create_table(
        "weight_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("rollout_id", sa.String(32), sa.ForeignKey("rollouts.id"), nullable=False),
        sa.Column("fence", sa.BigInteger(), nullable=False),
        sa.Column("ts", sa.Double(), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("previous_weight", sa.Double(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("settled_at", sa.Double(), nullable=True),
    )
    op.create_index("ix_weight_changes_rollout_id", "weight_changes", ["rollout_id"])


def downgrade() -> None:
    op.drop_index("ix_weight_changes_rollout_id", "weight_changes")
    op.drop_table("weight_changes")
    with op.batch_alter_table("rollouts") as batch:
        batch.drop_column("ending")
        batch.drop_column("applied_weight")
        batch.drop_column("fence")
