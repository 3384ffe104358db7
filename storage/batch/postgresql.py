"""PostgreSQL: a whole batch of proposals and their rows in one statement (see `storage.batch`)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, Select, Table, Text, bindparam, column, func, insert, null, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import TypeCompiler
from sqlalchemy.types import TypeDecorator, UserDefinedType

from storage.batch.rows import (
    _CHILDREN,
    _PROPOSAL,
    THIS_PROPOSAL,
    NewProposal,
    columns_of,
)


def _add_in_one_statement(connection: Connection, proposals: Sequence[NewProposal]) -> list[int]:
    dialect = connection.dialect
    done: dict[tuple[type, Any], Any] = {}
    params: dict[str, Any] = {
        "count": len(proposals),
        _PROPOSAL.name: _json_ready(_PROPOSAL, [p.values() for p in proposals], dialect, done),
    }
    for name, table, _ in _CHILDREN:
        # Named by place: the statement swaps in each id, in the dedupe keys too.
        children = [
            {**row.values(), "proposal_id": place}
            for place, p in enumerate(proposals, start=1)
            for row in getattr(p.rows, name)
        ]
        params[table.name] = _json_ready(table, children, dialect, done)
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


def _json_ready(
    table: Table, rows: list[dict[str, Any]], dialect: Dialect, done: dict[tuple[type, Any], Any] | None = None
) -> list[dict[str, Any]]:
    """The rows (changed in place) as JSON values, each as its column's type would bind it:
    UTC times, amounts in hundredths. `done`: values already turned, by type, which the tables
    of one batch share (a grant's rows all carry the same time, a dozen times over)."""
    decorated = _decorated(table)
    done = {} if done is None else done
    for row in rows:
        for name, kind in decorated:
            value = row.get(name)
            if value is not None:
                key = (type(kind), value)
                turned = done.get(key, _NOT_YET)
                if turned is _NOT_YET:
                    bound = kind.process_bind_param(value, dialect)
                    turned = done[key] = bound.isoformat() if isinstance(bound, datetime) else bound
                row[name] = turned
    return rows


_NOT_YET = object()


@functools.cache
def _decorated(table: Table) -> tuple[tuple[str, TypeDecorator[Any]], ...]:
    return tuple((c.name, c.type) for c in table.c if isinstance(c.type, TypeDecorator))
