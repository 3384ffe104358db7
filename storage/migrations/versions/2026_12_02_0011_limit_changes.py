"""Limits that grow with trust: the limits leads change on top of the policy file (for the team,
or one agent's own), and the suggestions they set aside for now.

Revision ID: 0011_limit_changes
Revises: 0010_encouragement
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_limit_changes"
down_revision: str | None = "0010_encouragement"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "limit_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remedy_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("tier", sa.String(16), nullable=True),
        sa.Column("person", sa.String(32), nullable=True),
        sa.Column("from_amount", sa.BigInteger(), nullable=True),
        sa.Column("to_amount", sa.BigInteger(), nullable=True),
        sa.Column("by", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_limit_change"),
    )
    op.create_index("ix_limit_change_remedy_id_id", "limit_change", ["remedy_id", "id"])
    op.create_table(
        "trust_dismissal",
        sa.Column("remedy_id", sa.String(40), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("decisions", sa.Integer(), nullable=False),
        sa.Column("by", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("remedy_id", "tier", name="pk_trust_dismissal"),
    )


def downgrade() -> None:
    op.drop_table("trust_dismissal")
    op.drop_index("ix_limit_change_remedy_id_id", "limit_change")
    op.drop_table("limit_change")
