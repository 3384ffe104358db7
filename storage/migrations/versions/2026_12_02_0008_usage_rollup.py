"""Usage reports read running totals of closed days instead of every decision: through each day,
per person and unit the figures of `/remedy usage`, per person the times to decision in steps,
and how far the roll-up has got. The bot fills them (`jobs.usage_rollup`, at start and hourly);
until a day is rolled up, reports read it from the decisions, so nothing needs backfilling here.

Revision ID: 0008_usage_rollup
Revises: 0007_case_totals
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_usage_rollup"
down_revision: str | None = "0007_case_totals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ("alone", "with_peer", "with_lead", "agreements_given")
FAIR = (("fair_count", sa.Integer()), ("granted_where_fair", sa.BigInteger()), ("fair_figures", sa.BigInteger()))


def upgrade() -> None:
    op.create_table(
        "usage_total",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("person", sa.String(32), nullable=False),
        sa.Column("unit", sa.String(8), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("value", sa.BigInteger(), nullable=False),  # hundredths, as proposal.amount
        *(sa.Column(name, kind, nullable=False) for name, kind in FAIR),
        sa.Column("fair_taken", sa.Integer(), nullable=False),
        sa.Column("fair_taken_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "person", "unit", name="pk_usage_total"),
    )
    op.create_table(
        "usage_total_time",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("person", sa.String(32), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("day", "person", name="pk_usage_total_time"),
    )
    op.create_table(
        "usage_rollup",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("through", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_usage_rollup"),
    )


def downgrade() -> None:
    op.drop_table("usage_rollup")
    op.drop_table("usage_total_time")
    op.drop_table("usage_total")
