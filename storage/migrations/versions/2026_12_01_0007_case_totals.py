"""What a case already has of a remedy is read before each proposal on it: an index of remedy,
case reference (lower-cased, as cases match whatever their letters' case) and time.

Revision ID: 0007_case_totals
Revises: 0006_early_reactions
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_case_totals"
down_revision: str | None = "0006_early_reactions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_proposal_remedy_case_created_at", "proposal", ["remedy_id", sa.text("lower(case_ref)"), "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_proposal_remedy_case_created_at", "proposal")
