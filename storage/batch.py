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

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, cast

from sqlalchemy import JSON, BigInteger, Integer, Select, Table, Text, bindparam, column, func, insert, null, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import TypeCompiler
from sqlalchemy.types import TypeDecorator, UserDefinedType

from bot.core.lifecycle import Event, Status
from bot.core.policy import Tier
from bot.core.vocabulary import OutboxKind, OutboxStatus, RequestedBy, Via
from storage.models import Approval, Decision, OutboxMessage, Proposal, ProposalEvent

# A dedupe key may name its proposal before the proposal has an id.
THIS_PROPOSAL = "{proposal}"


class _Columns:
    """A row to insert: its fields are its table's columns, and it gives their values."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in columns_of(type(self))}


@dataclass(frozen=True, slots=True)
class EventRow(_Columns):
    """A line of a proposal's history."""

    at: datetime
    kind: Event
    actor: str | None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ApprovalRow(_Columns):
    """The agreement that granted a proposal."""

    approver: str
    via: Via
    at: datetime


@dataclass(frozen=True, slots=True)
class DecisionRow(_Columns):
    """The audit record of a grant."""

    tier: Tier
    agreed_by: str | None
    granted_at: datetime
    seconds_to_decision: int


@dataclass(frozen=True, slots=True)
class OutboxRow(_Columns):
    """A message owed to Slack as it is first written (see `outbox_row`)."""

    kind: OutboxKind
    channel: str
    created_at: datetime
    next_attempt_at: datetime
    user: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0


def outbox_row(
    *,
    kind: OutboxKind,
    channel: str,
    at: datetime,
    user: str | None = None,
    detail: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> OutboxRow:
    """A message owed to Slack: pending, due at `at`."""
    return OutboxRow(
        kind=kind,
        channel=channel,
        created_at=at,
        next_attempt_at=at,
        user=user,
        detail=detail or {},
        dedupe_key=dedupe_key,
    )


@dataclass(frozen=True, slots=True)
class Rows:
    """The rows that hang off one proposal, without its id."""

    events: tuple[EventRow, ...] = ()
    approvals: tuple[ApprovalRow, ...] = ()
    decisions: tuple[DecisionRow, ...] = ()
    outbox: tuple[OutboxRow, ...] = ()


@dataclass(frozen=True, slots=True)
class NewProposal(_Columns):
    """A proposal as it is first written, and the rows that hang off it."""

    status: Status
    remedy_id: str
    remedy_label: str
    unit: str
    amount: Decimal
    case_ref: str
    summary: str
    tier: Tier
    proposer: str | None  # None: a customer's request, until an agent takes it up
    created_at: datetime
    customer_fair: Decimal | None = None
    source_key: str | None = None
    asked: str | None = None
    origin_channel: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    reroute_at: datetime | None = None
    expire_at: datetime | None = None
    requested_by: RequestedBy | None = None  # proposals from the company's own systems
    integration: str | None = None
    customer_id: str | None = None
    customer_name: str | None = None
    rows: Rows = Rows()  # not a column: written to the tables that hang off a proposal


_PROPOSAL, _EVENT, _APPROVAL, _DECISION, _OUTBOX = (
    cast(Table, model.__table__) for model in (Proposal, ProposalEvent, Approval, Decision, OutboxMessage)
)
# Each table that hangs off a proposal: its name in `Rows`, and the row type that fills it.
_CHILDREN: tuple[tuple[str, Table, type[_Columns]], ...] = (
    ("events", _EVENT, EventRow),
    ("approvals", _APPROVAL, ApprovalRow),
    ("decisions", _DECISION, DecisionRow),
    ("outbox", _OUTBOX, OutboxRow),
)


_COLUMNS: dict[type[_Columns], tuple[str, ...]] = {}


def columns_of(row_type: type[_Columns]) -> tuple[str, ...]:
    """The columns a row type gives: its fields, but a proposal's rows."""
    if row_type not in _COLUMNS:
        _COLUMNS[row_type] = tuple(f.name for f in fields(row_type) if f.name != "rows")
    return _COLUMNS[row_type]


def child_values(row: _Columns, proposal_id: int) -> dict[str, Any]:
    """A child row's column values, naming its proposal by id."""
    values = {**row.values(), "proposal_id": proposal_id}
    if values.get("dedupe_key"):
        values["dedupe_key"] = values["dedupe_key"].replace(THIS_PROPOSAL, str(proposal_id))
    return values


def add_proposal(session: Session, proposal: NewProposal) -> Proposal:
    """Insert one proposal and its rows; returns it as written (detached from the session)."""
    values = proposal.values()
    proposal_id = session.connection().execute(insert(_PROPOSAL).returning(_PROPOSAL.c.id), values).scalar_one()
    add_rows(session, [(proposal_id, proposal.rows)])
    return Proposal(id=proposal_id, **values)


def add_rows(session: Session, rows: Sequence[tuple[int, Rows]]) -> None:
    """Insert the rows that hang off proposals already written, by their ids."""
    _add_children(session.connection(), rows)


def add_proposals(connection: Connection, proposals: Sequence[NewProposal]) -> list[int]:
    """Insert several proposals and the rows hanging off each; returns their ids, in order.
    On PostgreSQL it is one statement, atomic by itself; elsewhere run it in a transaction."""
    if not proposals:
        return []
    if connection.dialect.name == "postgresql":
        return _add_in_one_statement(connection, proposals)
    # In process, a statement costs no round trip, only what builds it: the driver's own
    # statements, written once, with each column's values as its type binds them.
    cursor = connection.connection.cursor()
    sql = ""
    try:
        sql, bind = _plain_insert(_PROPOSAL, columns_of(NewProposal), connection.dialect)
        ids = []
        for proposal in proposals:
            cursor.execute(sql, bind(proposal.values()))
            ids.append(int(cursor.lastrowid))
        for name, table, row_type in _CHILDREN:
            rows = [child_values(row, i) for i, p in zip(ids, proposals, strict=True) for row in getattr(p.rows, name)]
            if rows:
                sql, bind = _plain_insert(table, ("proposal_id", *columns_of(row_type)), connection.dialect)
                cursor.executemany(sql, [bind(row) for row in rows])
    except connection.dialect.loaded_dbapi.Error as error:
        # As SQLAlchemy raises it (IntegrityError, …), so callers see one kind of error.
        raise DBAPIError.instance(sql, None, error, connection.dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()
    return ids


def _add_children(connection: Connection, rows: Sequence[tuple[int, Rows]]) -> None:
    for name, table, _ in _CHILDREN:
        params = [child_values(row, proposal_id) for proposal_id, of in rows for row in getattr(of, name)]
        if params:
            # RETURNING has SQLAlchemy send the rows as one multi-row INSERT ("insertmanyvalues"):
            # one round trip, where the driver's executemany may take several.
            connection.execute(insert(table).returning(table.c.id), params)


@functools.cache
def _plain_insert(
    table: Table, names: tuple[str, ...], dialect: Dialect
) -> tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]]]:
    """A driver-level INSERT of `names` into `table` (qmark style, as SQLite's driver takes),
    and what turns a row's values into its parameters."""
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES ({', '.join('?' * len(names))})"
    )
    # The dialect's own processors, as SQLAlchemy binds them (SQLite's times as it stores and
    # compares them: with microseconds), not the generic type's, which leave times to the driver.
    processors = [(name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names]

    def bind(values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None or value is None else process(value)
            for name, process in processors
            for value in (values[name],)
        )

    return sql, bind


# --- PostgreSQL: the whole batch in one statement ---------------------------------------------


def _add_in_one_statement(connection: Connection, proposals: Sequence[NewProposal]) -> list[int]:
    dialect = connection.dialect
    params: dict[str, Any] = {
        "count": len(proposals),
        _PROPOSAL.name: _json_ready(_PROPOSAL, [p.values() for p in proposals], dialect),
    }
    for name, table, _ in _CHILDREN:
        # Named by place: the statement swaps in each id, in the dedupe keys too.
        children = [
            {**row.values(), "proposal_id": place}
            for place, p in enumerate(proposals, start=1)
            for row in getattr(p.rows, name)
        ]
        params[table.name] = _json_ready(table, children, dialect)
    return list(connection.execute(_insert_all(), params).scalars())


class _RowOf(UserDefinedType[Any]):
    """The composite type PostgreSQL gives every table, named as the table is."""

    cache_ok = True

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name


@compiles(_RowOf)
def _compile_row_of(type_: _RowOf, compiler: TypeCompiler, **kw: Any) -> str:
    return str(compiler.dialect.identifier_preparer.quote(type_.table_name))


@functools.cache
def _insert_all() -> Select[int]:
    """Every table's rows, each bound as a JSON array under the table's name, proposals'
    places bound as `count`. Foreign keys are checked at the end of the statement, so the
    children may name ids drawn within it. An empty array inserts nothing."""
    place = func.generate_series(1, bindparam("count", type_=Integer)).column_valued("place")
    drawn = func.nextval(func.pg_get_serial_sequence(_PROPOSAL.name, _PROPOSAL.c.id.name), type_=BigInteger)
    # MATERIALIZED: each place draws its id once, however often the others read it.
    ids = select(place.label("place"), drawn.label("id")).cte("ids").prefix_with("MATERIALIZED")
    tables: list[tuple[Table, tuple[str, ...]]] = [(_PROPOSAL, ("id", *columns_of(NewProposal)))]
    tables += [(table, ("proposal_id", *columns_of(row_type))) for _, table, row_type in _CHILDREN]
    inserts = []
    for table, names in tables:
        _check_complete(table, names)
        given = func.json_populate_recordset(
            sql_cast(null(), _RowOf(table.name)), bindparam(table.name, type_=JSON)
        ).table_valued(*(column(n, table.c[n].type) for n in names), with_ordinality="ordinality", name="r")
        # The proposals take their ids by place; each child joins its proposal's place.
        joined = ids.c.place == (given.c.ordinality if table is _PROPOSAL else given.c.proposal_id)
        picked = [
            ids.c.id
            if name in ("id", "proposal_id")
            else func.replace(given.c.dedupe_key, THIS_PROPOSAL, sql_cast(ids.c.id, Text))
            if name == "dedupe_key"
            else given.c[name]
            for name in names
        ]
        rows = select(*picked).select_from(given.join(ids, joined)).order_by(given.c.ordinality)
        inserts.append(insert(table).from_select(names, rows, include_defaults=False).cte(f"{table.name}_rows"))
    return select(ids.c.id).add_cte(*inserts).order_by(ids.c.place)


def _check_complete(table: Table, names: tuple[str, ...]) -> None:
    """No model-side default applies to an INSERT from a SELECT: a row type must give every
    column with a default."""
    if missing := {column.name for column in table.c if column.default is not None} - set(names):
        raise ValueError(f"{table.name} rows leave out {sorted(missing)}, which have defaults")


def _json_ready(table: Table, rows: list[dict[str, Any]], dialect: Dialect) -> list[dict[str, Any]]:
    """The rows (changed in place) as JSON values, each as its column's type would bind it:
    UTC times, amounts in hundredths."""
    decorated = _decorated(table)
    for row in rows:
        for name, kind in decorated:
            value = row.get(name)
            if value is not None:
                value = kind.process_bind_param(value, dialect)
                row[name] = value.isoformat() if isinstance(value, datetime) else value
    return rows


@functools.cache
def _decorated(table: Table) -> tuple[tuple[str, TypeDecorator[Any]], ...]:
    return tuple((c.name, c.type) for c in table.c if isinstance(c.type, TypeDecorator))
