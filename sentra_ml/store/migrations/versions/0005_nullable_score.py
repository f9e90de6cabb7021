"""Decisions: `score` may be null, for a verdict made before any metric had data.

SQLite cannot alter a column in place, so the batch mode copies the table there.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.alter_column("score", existing_type=sa.Double(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE decisions SET score = 0 WHERE score IS NULL")
    with op.batch_alter_table("decisions") as batch:
        batch.alter_column("score", existing_type=sa.Double(), nullable=False)
