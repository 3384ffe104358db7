"""Request deadlines (re-route, expiry) and agents' availability (away/back).

Existing pending proposals keep NULL deadlines here: the schedule adopts them on its
first run with the policy's durations (a migration can't know the policy).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("proposal") as batch:
        batch.add_column(sa.Column("reroute_at", Time, nullable=True))
        batch.add_column(sa.Column("expire_at", Time, nullable=True))
    op.create_index("ix_proposal_status_reroute_at", "proposal", ["status", "reroute_at"])
    op.create_index("ix_proposal_status_expire_at", "proposal", ["status", "expire_at"])
    op.create_table(
        "availability",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("away_since", Time, nullable=False),
        sa.Column("away_until", Time, nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_availability"),
    )


def downgrade() -> None:
    op.drop_table("availability")
    op.drop_index("ix_proposal_status_expire_at", "proposal")
    op.drop_index("ix_proposal_status_reroute_at", "proposal")
    with op.batch_alter_table("proposal") as batch:
        batch.drop_column("expire_at")
        batch.drop_column("reroute_at")
