"""The customer's own tier, and proposals from the company's systems: who asked (the customer or
an agent), through which integration, for which customer. A customer's request has no proposer
until an agent takes it up, so `proposal.proposer` may be empty; usage counts what customers
served themselves as a tier of its own.

On SQLite the NOT NULL of `proposer` is dropped by editing the table's schema text, the procedure
SQLite documents for removing a NOT NULL constraint (ALTER TABLE, "making other kinds of table
schema changes"): copying the table anew, as Alembic's batch mode would, drops the `ask_load`
triggers and the expression index on cases.

Revision ID: 0014_customer_tier
Revises: 0013_alone_budgets
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_customer_tier"
down_revision: str | None = "0013_alone_budgets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [("requested_by", 16), ("integration", 100), ("customer_id", 255), ("customer_name", 255)]
# Before this revision every proposal had one: a downgrade gives the proposals that had none
# this name, which no Slack user id can be.
NO_PROPOSER = "customer"


def _sqlite_proposer(nullable: bool) -> None:
    strict, loose = "proposer VARCHAR(32) NOT NULL,", "proposer VARCHAR(32),"
    before, after = (strict, loose) if nullable else (loose, strict)
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    changed = bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'proposal'",
        (before, after),
    ).rowcount
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    if changed != 1:
        raise RuntimeError("proposal's schema is not as revision 0013 left it")


# Decisions a customer served themselves never wait for a review: the queue's index leaves them out.
UNREVIEWED_BEFORE = sa.text("reviewed_at IS NULL")
UNREVIEWED = sa.text("reviewed_at IS NULL AND tier <> 'customer'")


def _review_index(where: sa.TextClause) -> None:
    op.drop_index("ix_decision_unreviewed_granted_at", "decision")
    op.create_index(
        "ix_decision_unreviewed_granted_at", "decision", ["granted_at"], sqlite_where=where, postgresql_where=where
    )


def upgrade() -> None:
    for name, length in COLUMNS:
        op.add_column("proposal", sa.Column(name, sa.String(length), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_proposer(nullable=True)
    else:
        op.alter_column("proposal", "proposer", existing_type=sa.String(32), nullable=True)
    op.add_column("usage_total", sa.Column("self_served", sa.Integer(), nullable=False, server_default="0"))
    _review_index(UNREVIEWED)


def downgrade() -> None:
    _review_index(UNREVIEWED_BEFORE)
    op.execute(sa.text(f"UPDATE proposal SET proposer = '{NO_PROPOSER}' WHERE proposer IS NULL"))
    # The customers' own rows of usage have nothing to count without their tier.
    op.execute(sa.text("DELETE FROM usage_total WHERE self_served <> 0 AND alone + with_peer + with_lead = 0"))
    op.execute(sa.text("ALTER TABLE usage_total DROP COLUMN self_served"))
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_proposer(nullable=False)
    else:
        op.alter_column("proposal", "proposer", existing_type=sa.String(32), nullable=False)
    for name, _length in reversed(COLUMNS):
        op.execute(sa.text(f"ALTER TABLE proposal DROP COLUMN {name}"))
