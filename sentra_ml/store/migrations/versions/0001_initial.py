"""Initial schema: rollouts, steps, decisions, events, policies, API tokens, model versions.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollouts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("namespace", sa.String(200), nullable=False),
        sa.Column("baseline_version", sa.String(200), nullable=False),
        sa.Column("canary_version", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("target", sa.JSON(), nullable=True),
        sa.Column("source", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
    )
    op.create_index("ix_rollouts_service_state", "rollouts", ["service", "state"])
    op.create_index("ix_rollouts_namespace_service", "rollouts", ["namespace", "service"])
    op.create_table(
        "steps",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("rollout_id", sa.String(32), sa.ForeignKey("rollouts.id"), nullable=False),
        sa.Column("ts", sa.Double(), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("previous_weight", sa.Double(), nullable=False),
    )
    op.create_index("ix_steps_rollout_id", "steps", ["rollout_id"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("rollout_id", sa.String(32), sa.ForeignKey("rollouts.id"), nullable=False),
        sa.Column("ts", sa.Double(), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("risk", sa.Double(), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("verdict", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.String(200), nullable=False),
    )
    op.create_index("ix_decisions_rollout_id", "decisions", ["rollout_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("rollout_id", sa.String(32), sa.ForeignKey("rollouts.id"), nullable=True),
        sa.Column("ts", sa.Double(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("decision_id", sa.Integer(), sa.ForeignKey("decisions.id"), nullable=True),
    )
    op.create_index("ix_events_rollout_id", "events", ["rollout_id"])
    op.create_table(
        "policies",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("revoked_at", sa.Double(), nullable=True),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.String(200), nullable=False),
        sa.Column("uri", sa.String(500), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
    )
    op.create_index(
        "ix_model_versions_service_name", "model_versions", ["service", "name", "version"]
    )


def downgrade() -> None:
    for table in (
        "model_versions", "api_tokens", "policies", "events", "decisions", "steps", "rollouts",
    ):  # fmt: skip
        op.drop_table(table)
