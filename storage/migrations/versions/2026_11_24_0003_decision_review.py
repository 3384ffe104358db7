"""Blameless review: each granted decision is reviewed later by a lead, privately.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decision") as batch:
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(32), nullable=True))
        batch.add_column(sa.Column("review_outcome", sa.String(16), nullable=True))
        batch.add_column(sa.Column("coaching_note", sa.Text(), nullable=True))
    op.create_index("ix_decision_reviewed_at", "decision", ["reviewed_at"])
    op.create_index("ix_decision_granted_at", "decision", ["granted_at"])


def downgrade() -> None:
    op.drop_index("ix_decision_granted_at", "decision")
    op.drop_index("ix_decision_reviewed_at", "decision")
    with op.batch_alter_table("decision") as batch:
        batch.drop_column("coaching_note")
        batch.drop_column("review_outcome")
        batch.drop_column("reviewed_by")
        batch.drop_column("reviewed_at")
