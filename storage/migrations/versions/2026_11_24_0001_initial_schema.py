"""Initial schema: proposals, their approvals, history, decisions and the outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain types on purpose: a migration must not change when the models do.
Time = sa.DateTime(timezone=True)
Amount = sa.BigInteger()  # whole hundredths


def upgrade() -> None:
    op.create_table(
        "proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_key", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("remedy_id", sa.String(40), nullable=False),
        sa.Column("remedy_label", sa.String(100), nullable=False),
        sa.Column("unit", sa.String(8), nullable=False),
        sa.Column("amount", Amount, nullable=False),
        sa.Column("customer_fair", Amount, nullable=True),
        sa.Column("case_ref", sa.String(100), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("proposer", sa.String(32), nullable=False),
        sa.Column("asked", sa.String(32), nullable=True),
        sa.Column("origin_channel", sa.String(32), nullable=True),
        sa.Column("request_channel", sa.String(32), nullable=True),
        sa.Column("request_ts", sa.String(32), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("decided_at", Time, nullable=True),
        sa.Column("decided_by", sa.String(32), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_proposal"),
        sa.UniqueConstraint("source_key", name="uq_proposal_source_key"),
    )
    op.create_index("ix_proposal_status", "proposal", ["status"])
    op.create_index("ix_proposal_request_message", "proposal", ["request_channel", "request_ts"])
    op.create_index("ix_proposal_asked_status", "proposal", ["asked", "status"])
    op.create_index("ix_proposal_proposer_created_at", "proposal", ["proposer", "created_at"])

    op.create_table(
        "approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("approver", sa.String(32), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"], name="fk_approval_proposal_id_proposal"),
        sa.PrimaryKeyConstraint("id", name="pk_approval"),
        sa.UniqueConstraint("proposal_id", name="uq_approval_proposal_id"),
    )
    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("agreed_by", sa.String(32), nullable=True),
        sa.Column("granted_at", Time, nullable=False),
        sa.Column("seconds_to_decision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"], name="fk_decision_proposal_id_proposal"),
        sa.PrimaryKeyConstraint("id", name="pk_decision"),
        sa.UniqueConstraint("proposal_id", name="uq_decision_proposal_id"),
    )
    op.create_table(
        "proposal_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("actor", sa.String(32), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"], name="fk_proposal_event_proposal_id_proposal"),
        sa.PrimaryKeyConstraint("id", name="pk_proposal_event"),
    )
    op.create_index("ix_proposal_event_proposal_id", "proposal_event", ["proposal_id"])
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("user", sa.String(32), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("next_attempt_at", Time, nullable=False),
        sa.Column("claimed_until", Time, nullable=True),
        sa.Column("sent_at", Time, nullable=True),
        sa.Column("slack_channel", sa.String(32), nullable=True),
        sa.Column("slack_ts", sa.String(32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"], name="fk_outbox_message_proposal_id_proposal"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_message"),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_message_dedupe_key"),
    )
    op.create_index("ix_outbox_message_proposal_id", "outbox_message", ["proposal_id"])
    op.create_index("ix_outbox_message_status_next_attempt_at", "outbox_message", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("outbox_message")
    op.drop_table("proposal_event")
    op.drop_table("decision")
    op.drop_table("approval")
    op.drop_table("proposal")
