"""New proposals and the rows that hang off them, as typed rows, and the writes that insert them.
Nothing here commits: the caller owns the transaction (see `storage.db.batch_connection`).

On PostgreSQL a batch is ONE statement of data-modifying CTEs, built with SQLAlchemy Core: the
proposals' ids are drawn from their sequence within it, each table's rows travel as one JSON
array that `json_populate_recordset` reads with the table's own column types, a child names its
proposal by its place in the batch (from 1) until the statement swaps in the id, and a dedupe
key's THIS_PROPOSAL becomes the id in SQL. One statement is atomic by itself, so it may run
without BEGIN and COMMIT: one round trip per batch, where a transaction and a statement per
table took seven. Under load each round trip is a wait to win the interpreter back, and a grant
within an agent's own authority waits on this write. (psycopg's pipeline mode could also send
BEGIN, the INSERTs and COMMIT in one go, but SQLAlchemy does not drive it, so each statement
would be written for the driver by hand; and the children need their proposals' ids, which this
statement draws for itself.) The statement text is the same for every batch, whatever its size
and whichever tables it fills, so the server prepares it once.

Elsewhere (SQLite, in process: a round trip costs nothing) it is one multi-row INSERT per table.
"""

from storage.batch.postgresql import _json_ready
from storage.batch.rows import (
    _CHILDREN,
    _PROPOSAL,
    THIS_PROPOSAL,
    ApprovalRow,
    DecisionRow,
    EventRow,
    NewProposal,
    OutboxRow,
    Rows,
    child_values,
    columns_of,
    outbox_row,
)
from storage.batch.writes import add_proposal, add_proposals, add_rows, as_written

__all__ = [
    "THIS_PROPOSAL",
    "_CHILDREN",
    "_PROPOSAL",
    "ApprovalRow",
    "DecisionRow",
    "EventRow",
    "NewProposal",
    "OutboxRow",
    "Rows",
    "_json_ready",
    "add_proposal",
    "add_proposals",
    "add_rows",
    "as_written",
    "child_values",
    "columns_of",
    "outbox_row",
]
