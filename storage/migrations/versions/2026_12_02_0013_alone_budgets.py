"""A budget for what one agent grants alone: a counter per agent, remedy and period.

Revision ID: 0013_alone_budgets
Revises: 0012_customer_outcomes
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_alone_budgets"
down_revision: str | None = "0012_customer_outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alone_budget_use",
        sa.Column("person", sa.String(32), nullable=False),
        sa.Column("remedy_id", sa.String(40), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("person", "remedy_id", "period_start", name="pk_alone_budget_use"),
    )


def downgrade() -> None:
    op.drop_table("alone_budget_use")
