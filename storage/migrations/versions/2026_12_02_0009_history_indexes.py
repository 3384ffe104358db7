"""A year of history costs nothing to what reads the present: indexes of pending rows only (the
schedule, the Home), of when each person was last asked, of a person's requests by status, of
the decisions still to review and of who agreed to what. The indexes of status alone and of
every row's deadlines go: the pending ones answer those, and grants, most of all rows, no
longer write them.

Whom to ask weighs each person's open asks and when they were last asked: `ask_load` holds
both, a row per person, filled from the history here and kept by triggers on `proposal` from
then on, in the transaction of every write (an ask, a re-route, a grant, a decline, ...).

Revision ID: 0009_history_indexes
Revises: 0008_usage_rollup
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_history_indexes"
down_revision: str | None = "0008_usage_rollup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")
UNSCHEDULED = sa.text("status = 'pending' AND expire_at IS NULL")
ASKED = sa.text("asked IS NOT NULL")
UNREVIEWED = sa.text("reviewed_at IS NULL")
AGREED = sa.text("agreed_by IS NOT NULL")

# (name, table, columns, partial on)
ADDED: list[tuple[str, str, list[str], sa.TextClause | None]] = [
    ("ix_proposal_pending_reroute_at", "proposal", ["reroute_at", "id"], PENDING),
    ("ix_proposal_pending_expire_at", "proposal", ["expire_at", "id"], PENDING),
    ("ix_proposal_pending_asked", "proposal", ["asked", "status", "created_at"], PENDING),
    ("ix_proposal_pending_created_at", "proposal", ["created_at"], PENDING),
    ("ix_proposal_pending_without_deadline", "proposal", ["id"], UNSCHEDULED),
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


# What each write of a proposal changes in `ask_load`: the old ask closed or moved (one fewer
# open; if it moved away, the latest request still asking them found again, one step down the
# index of asked and time), the new or remaining ask (one more open if pending; the latest time).
SQLITE_TRIGGERS = [
    """CREATE TRIGGER tr_proposal_ask_load_insert AFTER INSERT ON proposal WHEN NEW.asked IS NOT NULL
    BEGIN
      INSERT INTO ask_load (user_id, open_asks, last_asked_at)
      VALUES (NEW.asked, NEW.status = 'pending', NEW.created_at)
      ON CONFLICT (user_id) DO UPDATE SET
        open_asks = open_asks + excluded.open_asks,
        last_asked_at = max(coalesce(last_asked_at, excluded.last_asked_at), excluded.last_asked_at);
    END""",
    """CREATE TRIGGER tr_proposal_ask_load_update AFTER UPDATE OF status, asked ON proposal
    WHEN OLD.asked IS NOT NEW.asked OR OLD.status IS NOT NEW.status
    BEGIN
      UPDATE ask_load SET open_asks = open_asks - 1 WHERE user_id = OLD.asked AND OLD.status = 'pending';
      INSERT INTO ask_load (user_id, open_asks, last_asked_at)
      SELECT NEW.asked, NEW.status = 'pending', NEW.created_at WHERE NEW.asked IS NOT NULL
      ON CONFLICT (user_id) DO UPDATE SET
        open_asks = open_asks + excluded.open_asks,
        last_asked_at = max(coalesce(last_asked_at, excluded.last_asked_at), excluded.last_asked_at);
      UPDATE ask_load SET last_asked_at = (SELECT max(created_at) FROM proposal WHERE asked = OLD.asked)
      WHERE user_id = OLD.asked AND OLD.asked IS NOT NEW.asked;
    END""",
    """CREATE TRIGGER tr_proposal_ask_load_delete AFTER DELETE ON proposal WHEN OLD.asked IS NOT NULL
    BEGIN
      UPDATE ask_load SET open_asks = open_asks - (OLD.status = 'pending'),
        last_asked_at = (SELECT max(created_at) FROM proposal WHERE asked = OLD.asked)
      WHERE user_id = OLD.asked;
    END""",
]
POSTGRESQL_TRIGGERS = [
    """CREATE FUNCTION ask_load_follows_proposal() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP <> 'INSERT' AND OLD.asked IS NOT NULL AND OLD.status = 'pending' THEN
        UPDATE ask_load SET open_asks = open_asks - 1 WHERE user_id = OLD.asked;
      END IF;
      IF TG_OP <> 'DELETE' AND NEW.asked IS NOT NULL THEN
        INSERT INTO ask_load (user_id, open_asks, last_asked_at)
        VALUES (NEW.asked, CASE WHEN NEW.status = 'pending' THEN 1 ELSE 0 END, NEW.created_at)
        ON CONFLICT (user_id) DO UPDATE SET
          open_asks = ask_load.open_asks + excluded.open_asks,
          last_asked_at = greatest(ask_load.last_asked_at, excluded.last_asked_at);
      END IF;
      IF TG_OP <> 'INSERT' AND OLD.asked IS NOT NULL
          AND (TG_OP = 'DELETE' OR OLD.asked IS DISTINCT FROM NEW.asked) THEN
        UPDATE ask_load SET last_asked_at = (SELECT max(created_at) FROM proposal WHERE asked = OLD.asked)
        WHERE user_id = OLD.asked;
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE TRIGGER tr_proposal_ask_load_insert AFTER INSERT ON proposal
    FOR EACH ROW WHEN (NEW.asked IS NOT NULL) EXECUTE FUNCTION ask_load_follows_proposal()""",
    """CREATE TRIGGER tr_proposal_ask_load_update AFTER UPDATE OF status, asked ON proposal
    FOR EACH ROW WHEN (OLD.asked IS DISTINCT FROM NEW.asked OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION ask_load_follows_proposal()""",
    """CREATE TRIGGER tr_proposal_ask_load_delete AFTER DELETE ON proposal
    FOR EACH ROW WHEN (OLD.asked IS NOT NULL) EXECUTE FUNCTION ask_load_follows_proposal()""",
]
TRIGGERS = ("tr_proposal_ask_load_insert", "tr_proposal_ask_load_update", "tr_proposal_ask_load_delete")


def upgrade() -> None:
    for name, table, _columns in DROPPED:
        op.drop_index(name, table)
    for name, table, columns, where in ADDED:
        op.create_index(name, table, columns, sqlite_where=where, postgresql_where=where)
    op.create_table(
        "ask_load",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("open_asks", sa.Integer(), nullable=False),
        sa.Column("last_asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_ask_load"),
    )
    op.execute(
        "INSERT INTO ask_load (user_id, open_asks, last_asked_at) "
        "SELECT asked, sum(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), max(created_at) "
        "FROM proposal WHERE asked IS NOT NULL GROUP BY asked"
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    # IF EXISTS: on SQLite a later migration's downgrade that drops a column of proposal copies
    # the table anew (Alembic's batch mode), and its triggers do not come along.
    for trigger in TRIGGERS:
        op.execute(
            f"DROP TRIGGER IF EXISTS {trigger} ON proposal" if postgresql else f"DROP TRIGGER IF EXISTS {trigger}"
        )
    if postgresql:
        op.execute("DROP FUNCTION ask_load_follows_proposal()")
    op.drop_table("ask_load")
    for name, table, _columns, _where in reversed(ADDED):
        op.drop_index(name, table)
    for name, table, columns in reversed(DROPPED):
        op.create_index(name, table, columns)
