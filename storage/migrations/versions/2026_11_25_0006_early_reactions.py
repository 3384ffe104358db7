"""Agreeing reactions that arrive before their request's ts is known are kept until it is.

Revision ID: 0006_early_reactions
Revises: 0005
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_early_reactions"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "early_reaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("user", sa.String(32), nullable=False),
        sa.Column("reaction", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_early_reaction"),
        sa.UniqueConstraint("channel", "ts", "user", "reaction", name="uq_early_reaction_channel"),
    )
    op.create_index("ix_early_reaction_received_at", "early_reaction", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_early_reaction_received_at", "early_reaction")
    op.drop_table("early_reaction")
