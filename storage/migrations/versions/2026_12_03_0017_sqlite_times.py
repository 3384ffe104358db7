"""SQLite: every stored time with its microseconds.

Rows written by the batch's own INSERTs stored a time that fell on a whole second without its
microseconds ("… 09:00:00"), where SQLAlchemy writes "… 09:00:00.000000". SQLite compares them as
text, so such a row fell outside a range that started at its very instant (`since`, inclusive).
PostgreSQL stores times as times and has nothing to mend.

Revision ID: 0017_sqlite_times
Revises: 0016_decision_export
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_sqlite_times"
down_revision: str | None = "0016_decision_export"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# "YYYY-MM-DD HH:MM:SS" is 19 characters; with microseconds, 26.
WITHOUT_MICROSECONDS = 19


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    inspector = sa.inspect(bind)
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            if isinstance(column["type"], sa.DateTime):
                name, quoted = column["name"], bind.dialect.identifier_preparer.quote
                op.execute(
                    f"UPDATE {quoted(table)} SET {quoted(name)} = {quoted(name)} || '.000000' "
                    f"WHERE length({quoted(name)}) = {WITHOUT_MICROSECONDS}"
                )


def downgrade() -> None:
    # The longer form is what SQLAlchemy itself writes; nothing to undo.
    pass
