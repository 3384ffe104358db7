"""A year of history costs nothing to what reads the present: indexes of pending rows only (the
schedule, whom to ask, the Home), of when each person was last asked, of a person's requests by
status, of the decisions still to review and of who agreed to what. The indexes of status alone
and of every row's deadlines go: the pending ones answer those, and grants, most of all rows,
no longer write them.

Revision ID: 0009_history_indexes
Revises: 0007_case_totals
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_history_indexes"
down_revision: str | None = "0007_case_totals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")
ASKED = sa.text("asked IS NOT NULL")
UNREVIEWED = sa.text("reviewed_at IS NULL")
AGREED = sa.text("agreed_by IS NOT NULL")

# (name, table, columns, partial on)
ADDED: list[tuple[str, str, list[str], sa.TextClause | None]] = [
    ("ix_proposal_pending_reroute_at", "proposal", ["reroute_at", "id"], PENDING),
    ("ix_proposal_pending_expire_at", "proposal", ["expire_at", "id"], PENDING),
    ("ix_proposal_pending_asked", "proposal", ["asked", "status", "created_at"], PENDING),
    ("ix_proposal_pending_created_at", "proposal", ["created_at"], PENDING),
    ("ix_proposal_asked_created_at", "proposal", ["asked", "created_at"], ASKED),
    ("ix_proposal_proposer_status_id", "proposal", ["proposer", "status", "id"], None),
    ("ix_decision_unreviewed_granted_at", "decision", ["granted_at"], UNREVIEWED),
    ("ix_decision_agreed_by", "decision", ["agreed_by"], AGREED),
]
DROPPED: list[tuple[str, str, list[str]]] = [
    ("ix_proposal_status", "proposal", ["status"]),
    ("ix_proposal_status_reroute_at", "proposal", ["status", "reroute_at"]),
    ("ix_proposal_status_expire_at", "proposal", ["status", "expire_at"]),
    ("ix_proposal_asked_status", "proposal", ["asked", "status"]),
    ("ix_decision_reviewed_at", "decision", ["reviewed_at"]),
]


def upgrade() -> None:
    for name, table, _columns in DROPPED:
        op.drop_index(name, table)
    for name, table, columns, where in ADDED:
        op.create_index(name, table, columns, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name, table, _columns, _where in reversed(ADDED):
        op.drop_index(name, table)
    for name, table, columns in reversed(DROPPED):
        op.create_index(name, table, columns)
