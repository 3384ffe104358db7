"""Proposals that ended, by when: what an export of decisions (and the API's) reads.

Revision ID: 0016_decision_export
Revises: 0015_integrations
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_decision_export"
down_revision: str | None = "0015_integrations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_proposal_ended_decided_at",
        "proposal",
        ["decided_at", "id"],
        postgresql_where=sa.text("decided_at IS NOT NULL"),
        sqlite_where=sa.text("decided_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_proposal_ended_decided_at", "proposal")
