"""How the customer took a granted remedy, kept with its decision.

Revision ID: 0012_customer_outcomes
Revises: 0011_limit_changes
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_customer_outcomes"
down_revision: str | None = "0011_limit_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decision") as table:
        table.add_column(sa.Column("outcome", sa.String(16), nullable=True))
        table.add_column(sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_decision_outcome_granted_at",
        "decision",
        ["granted_at"],
        postgresql_where=sa.text("outcome IS NOT NULL"),
        sqlite_where=sa.text("outcome IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_decision_outcome_granted_at", "decision")
    with op.batch_alter_table("decision") as table:
        table.drop_column("outcome_at")
        table.drop_column("outcome")
