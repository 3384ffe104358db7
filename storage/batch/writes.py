"""The writes that insert new proposals and their rows (see `storage.batch`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, configure_mappers, instrumentation

from storage.batch.postgresql import _add_in_one_statement
from storage.batch.rows import (
    _CHILDREN,
    _PROPOSAL,
    THIS_PROPOSAL,
    NewProposal,
    Rows,
    _Columns,
    child_values,
    columns_of,
)
from storage.models import Proposal


def add_proposal(session: Session, proposal: NewProposal) -> Proposal:
    """Insert one proposal and its rows; returns it as written (detached from the session)."""
    values = proposal.values()
    proposal_id = session.connection().execute(insert(_PROPOSAL).returning(_PROPOSAL.c.id), values).scalar_one()
    add_rows(session, [(proposal_id, proposal.rows)])
    return as_written(proposal_id, values)


_PROPOSALS = instrumentation.manager_of_class(Proposal)


def as_written(proposal_id: int, values: dict[str, Any]) -> Proposal:
    """A proposal just written, as an object of no session: its columns hold `values`, set
    as-is, with nothing pending (a grant's reply reads it; nothing writes it). The model's
    constructor would take each value through an attribute event: a tenth of a grant's CPU."""
    if not Proposal.__mapper__.configured:  # as the constructor would, the first time
        configure_mappers()
    proposal: Proposal = _PROPOSALS.new_instance()
    proposal.__dict__.update(values, id=proposal_id)
    return proposal


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
            cursor.execute(sql, bind(proposal))
            ids.append(int(cursor.lastrowid))
        for name, table, row_type in _CHILDREN:
            children = [(i, row) for i, p in zip(ids, proposals, strict=True) for row in getattr(p.rows, name)]
            if children:
                sql, bind_child = _plain_child_insert(table, columns_of(row_type), connection.dialect)
                cursor.executemany(sql, [bind_child(i, row) for i, row in children])
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
) -> tuple[str, Callable[[_Columns], list[Any]]]:
    """A driver-level INSERT of a row's columns `names` into `table` (qmark style, as SQLite's
    driver takes), and what turns a row into its parameters: each column's value as its type
    binds it, read straight from the row (no dict of its values on the way)."""
    return _insert_sql(table, names, dialect), _binder(table, names, dialect, offset=0)


@functools.cache
def _plain_child_insert(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[str, Callable[[int, _Columns], list[Any]]]:
    """The same for a row that hangs off a proposal, given its proposal's id (the first column);
    a dedupe key's THIS_PROPOSAL becomes the id, as `child_values` does."""
    names = ("proposal_id", *columns)
    bind = _binder(table, columns, dialect, offset=1)
    dedupe = names.index("dedupe_key") if "dedupe_key" in names else None

    def bind_child(proposal_id: int, row: _Columns) -> list[Any]:
        params = bind(row)
        params[0] = proposal_id
        if dedupe is not None and params[dedupe]:
            params[dedupe] = params[dedupe].replace(THIS_PROPOSAL, str(proposal_id))
        return params

    return _insert_sql(table, names, dialect), bind_child


def _insert_sql(table: Table, names: tuple[str, ...], dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    columns, marks = ", ".join(quote(n) for n in names), ", ".join("?" * len(names))
    return f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})"


def _binder(table: Table, names: tuple[str, ...], dialect: Dialect, *, offset: int) -> Callable[[Any], list[Any]]:
    """A row's values of `names` as parameters, after `offset` empty places; only the columns
    whose type binds a value its own way are processed (a dedupe key, say, is not)."""
    read = attrgetter(*names)
    processed = [
        (place, process)
        for place, name in enumerate(names, start=offset)
        # The dialect's own form of each type, as SQLAlchemy binds it: on SQLite a time is then
        # always written with its microseconds, so it compares as text with every other time.
        if (process := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]
    lead = [None] * offset

    def bind(row: Any) -> list[Any]:
        params = [*lead, *read(row)]
        for place, process in processed:
            value = params[place]
            if value is not None:
                params[place] = process(value)
        return params

    return bind
