"""Integrations: the company's systems with API tokens (hashed), their rate counters, and the
answers given under an Idempotency-Key.

Revision ID: 0015_integrations
Revises: 0014_customer_tier
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_integrations"
down_revision: str | None = "0014_customer_tier"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rate_window", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rate_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_integration"),
        sa.UniqueConstraint("name", name="uq_integration_name"),
        sa.UniqueConstraint("token_hash", name="uq_integration_token_hash"),
    )
    op.create_table(
        "idempotent_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["integration_id"], ["integration.id"], name="fk_idempotent_answer_integration_id_integration"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_idempotent_answer"),
        sa.UniqueConstraint("integration_id", "key", name="uq_idempotent_answer_integration_id_key"),
    )


def downgrade() -> None:
    op.drop_table("idempotent_answer")
    op.drop_table("integration")
