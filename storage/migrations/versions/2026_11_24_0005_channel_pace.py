"""Per-channel pacing lives in the database, so instances share it; the sender's lookups get
indexes of their own, so a long queue of paced posts costs a pass nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_pace",
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("next_post_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", name="pk_channel_pace"),
    )
    op.create_index(
        "ix_outbox_message_status_kind_next_attempt_at", "outbox_message", ["status", "kind", "next_attempt_at"]
    )
    op.create_index("ix_outbox_message_status_channel_id", "outbox_message", ["status", "channel", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_message_status_channel_id", "outbox_message")
    op.drop_index("ix_outbox_message_status_kind_next_attempt_at", "outbox_message")
    op.drop_table("channel_pace")
