"""Encouragement: a request keeps the precedent it was asked with (how the team granted its
remedy lately, read from a new index of remedy, status, time and amount); the people Leeway has
seen on the roster, for one welcome each and their nudges; and the nudges sent.

Everyone already in the history (who proposed, was asked, or decided) is known: they get no
welcome, which is for people new to Leeway. Anyone else on the roster is welcomed once.

Revision ID: 0010_encouragement
Revises: 0009_history_indexes
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_encouragement"
down_revision: str | None = "0009_history_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("proposal") as batch:
        batch.add_column(sa.Column("precedent_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("precedent_median", sa.BigInteger(), nullable=True))
    op.create_index("ix_proposal_remedy_status_decided_at", "proposal", ["remedy_id", "status", "decided_at", "amount"])
    op.create_table(
        "person",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("first_seen_at", Time, nullable=False),
        sa.Column("welcome", sa.String(16), nullable=False),
        sa.Column("welcomed_at", Time, nullable=True),
        sa.Column("last_nudged_at", Time, nullable=True),
        sa.Column("nudges_off_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_person"),
    )
    op.create_table(
        "nudge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Column("example_proposal_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["example_proposal_id"], ["proposal.id"], name="fk_nudge_example_proposal_id_proposal"),
        sa.PrimaryKeyConstraint("id", name="pk_nudge"),
    )
    op.create_index("ix_nudge_at", "nudge", ["at"])
    # Known already: seen since their first part in a proposal, and owed no welcome.
    op.execute(
        sa.text(
            "INSERT INTO person (user_id, first_seen_at, welcome) "
            "SELECT who, MIN(at), 'not_owed' FROM ("
            " SELECT proposer AS who, created_at AS at FROM proposal"
            " UNION ALL SELECT asked, created_at FROM proposal WHERE asked IS NOT NULL"
            " UNION ALL SELECT decided_by, created_at FROM proposal WHERE decided_by IS NOT NULL"
            ") AS part GROUP BY who"
        )
    )


def downgrade() -> None:
    op.drop_index("ix_nudge_at", "nudge")
    op.drop_table("nudge")
    op.drop_table("person")
    op.drop_index("ix_proposal_remedy_status_decided_at", "proposal")
    # SQLite drops a column by copying the table, and the copy would lose this index on an
    # expression (0007's): set it aside and put it back.
    op.drop_index("ix_proposal_remedy_case_created_at", "proposal")
    with op.batch_alter_table("proposal") as batch:
        batch.drop_column("precedent_median")
        batch.drop_column("precedent_count")
    op.create_index(
        "ix_proposal_remedy_case_created_at", "proposal", ["remedy_id", sa.text("lower(case_ref)"), "created_at"]
    )
