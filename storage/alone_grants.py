"""A batch of grants within the agents' own authority, each written only if it still fits its
case's alone limit: the read of what each case already has, the check, and the write, all or
nothing. Run it on `storage.db.batch_connection`.

A grant fits when what its case already has of the remedy since `since` (granted or waiting),
plus the amounts of the batch's grants before it on the same case, plus its own, is within its
alone limit. Once one on a case doesn't fit, neither does any after it on that case in the batch
(they count it): those go back to the caller, which decides their tier afresh under the case's
lock. A submission already recorded, or earlier in the batch, is left out and counts for nothing.

On PostgreSQL this is ONE round trip: two statements sent as one message, which the server runs
as one implicit transaction. The first takes the cases' locks (`queries.lock_cases`' locks); the
second, with a snapshot taken only once the locks are held, reads the cases, checks, and writes
the proposals and their rows (data-modifying CTEs, the ids drawn within it). Locking and reading
in one statement would not do: its snapshot would predate the lock, and miss a grant committed
while it waited. A transaction of its own (BEGIN, the lock, the read, the dedupe, the write,
COMMIT) took six round trips, and under load each is a wait to win the interpreter back. The
write is a prepared statement, made once on each connection: planning it took as long as running
it, on the same cores as Leeway.
Elsewhere (SQLite, in process, serialised by its writer lock) it is a read and the inserts.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import psycopg
from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError

from bot.core.lifecycle import Status
from storage.batch import _CHILDREN, _PROPOSAL, THIS_PROPOSAL, NewProposal, _json_ready, add_proposals, columns_of
from storage.models import Hundredths
from storage.queries.proposals import _CASE_LOCKS, _case_lock

_AMOUNT = Hundredths()


def add_alone_grants(
    connection: Connection, grants: Sequence[NewProposal], *, alone_limits: Sequence[Decimal], since: datetime
) -> list[int | None]:
    """Write each grant that fits (see the module); `alone_limits[i]` is the alone limit of
    `grants[i]`'s remedy. The ids, in order; None for each one left out."""
    if not grants:
        return []
    if connection.dialect.name == "postgresql":
        return _in_one_round_trip(connection, grants, alone_limits, since)
    return _in_a_transaction(connection, grants, alone_limits, since)


def _case(grant: NewProposal) -> tuple[str, str]:
    return (grant.remedy_id, grant.case_ref.lower())


def _in_a_transaction(
    connection: Connection, grants: Sequence[NewProposal], alone_limits: Sequence[Decimal], since: datetime
) -> list[int | None]:
    keys = [grant.source_key for grant in grants if grant.source_key]
    dialect = connection.dialect
    # In process, a statement costs no round trip, only what builds it: the two reads go to the
    # driver as they are, as the batch's inserts do (`storage.batch.add_proposals`).
    cursor = connection.connection.cursor()
    sql = ""
    try:
        seen: set[str] = set()
        if keys:
            sql = _recorded_sql(len(keys))
            seen = {key for (key,) in cursor.execute(sql, keys)}
        fresh = []
        for grant in grants:
            if grant.source_key is not None:
                if grant.source_key in seen:
                    fresh.append(False)
                    continue
                seen.add(grant.source_key)
            fresh.append(True)
        cases = list(dict.fromkeys(_case(grant) for grant, new in zip(grants, fresh, strict=True) if new))
        so_far = dict.fromkeys(cases, Decimal(0))
        if cases:
            sql, since_param, amount = _so_far_sql(len(cases), dialect)
            params = [since_param(since), Status.GRANTED.value, Status.PENDING.value]
            params += [part for remedy_case in cases for part in remedy_case]
            for remedy_id, case_key, total in cursor.execute(sql, params):
                so_far[(remedy_id, case_key)] = amount(total)
    except dialect.loaded_dbapi.Error as error:
        # As SQLAlchemy raises it (OperationalError, …), so callers see one kind of error.
        raise DBAPIError.instance(sql, None, error, dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()
    fits = []
    for grant, new, limit in zip(grants, fresh, alone_limits, strict=True):
        if new:
            so_far[_case(grant)] += grant.amount
        fits.append(new and so_far[_case(grant)] <= limit)
    ids = iter(add_proposals(connection, [grant for grant, fit in zip(grants, fits, strict=True) if fit]))
    return [next(ids) if fit else None for fit in fits]


@functools.cache
def _recorded_sql(count: int) -> str:
    """Which of `count` source keys are already recorded (qmark style, SQLite's driver's)."""
    return f"SELECT source_key FROM proposal WHERE source_key IN ({', '.join('?' * count)})"


@functools.cache
def _so_far_sql(count: int, dialect: Any) -> tuple[str, Any, Any]:
    """What each of `count` cases (remedy id, case reference in lower case) has since a time,
    granted or waiting (`queries.so_far_on_cases`' read, on the same index), a row per case that
    has any; with what binds the time and what reads an amount, as their columns' types do. A
    case reference lowered in Python is its own SQLite `lower()`, so each row names its case."""
    columns = _PROPOSAL.c
    matches = " OR ".join(["(remedy_id = ? AND lower(case_ref) = lower(?))"] * count)
    sql = (
        "SELECT remedy_id, lower(case_ref), sum(amount) FROM proposal "
        f"WHERE created_at >= ? AND status IN (?, ?) AND ({matches}) GROUP BY remedy_id, lower(case_ref)"
    )
    when = columns.created_at.type.dialect_impl(dialect).bind_processor(dialect)  # as SQLAlchemy writes times
    return sql, when, columns.amount.type.dialect_impl(dialect).result_processor(dialect, None)


def _in_one_round_trip(
    connection: Connection, grants: Sequence[NewProposal], alone_limits: Sequence[Decimal], since: datetime
) -> list[int | None]:
    dialect = connection.dialect
    done: dict[tuple[type, Any], Any] = {}
    params: dict[str, Any] = {
        "locks": sorted({_case_lock(*_case(grant)) for grant in grants}),
        "alone": [_AMOUNT.process_bind_param(limit, dialect) for limit in alone_limits],
        "since": since,
        _PROPOSAL.name: _json(_PROPOSAL, [grant.values() for grant in grants], dialect, done),
    }
    for name, table, _ in _CHILDREN:
        # Named by place (from 1): the statement swaps in each id, in the dedupe keys too.
        rows = [
            {**row.values(), "proposal_id": place} for place, g in enumerate(grants, 1) for row in getattr(g.rows, name)
        ]
        params[table.name] = _json(table, rows, dialect, done)
    driver = cast(psycopg.Connection[Any], connection.connection.driver_connection)
    prepare, run = _statements()
    prepared = connection.connection.info  # lives as long as this database connection
    for last_try in (False, True):
        if not prepared.get(_PREPARED):
            driver.execute(prepare)  # once a connection: the write's plan is then made once, not every batch
            prepared[_PREPARED] = True
        # Client-side binding: the two statements go as one simple query, one implicit transaction.
        with psycopg.ClientCursor(driver) as cursor:
            try:
                cursor.execute(run, params)
            except psycopg.errors.InvalidSqlStatementName:
                # psycopg deallocates every prepared statement when the schema changes under it,
                # ours too: prepare it again. Nothing was written: the two statements are one.
                prepared[_PREPARED] = False
                if last_try:
                    raise
                continue
            assert cursor.nextset(), "the write's result follows the locks'"
            written = dict(cast(list[tuple[int, int]], cursor.fetchall()))
            break
    return [written.get(place) for place in range(1, len(grants) + 1)]


def _json(table: Table, rows: list[dict[str, Any]], dialect: Any, done: dict[tuple[type, Any], Any]) -> str:
    return json.dumps(_json_ready(table, rows, dialect, done))


_PREPARED = "leeway_alone_grants_prepared"
_NAME = "leeway_alone_grants"


@functools.cache
def _statements() -> tuple[str, str]:
    """The write, prepared under `_NAME`; and what runs it: the locks, then the write by name,
    whose result is (place, id) of each grant written. `json_populate_recordset` reads each
    table's rows with its own column types; foreign keys are checked at the end of the
    statement, so children may name ids drawn in it."""
    tables = [(_PROPOSAL, ("id", *columns_of(NewProposal)))]
    tables += [(table, ("proposal_id", *columns_of(row_type))) for _, table, row_type in _CHILDREN]
    inserts = []
    # Parameters: $1 the alone limits, by place; $2 the window's start; then each table's rows.
    for place, (table, names) in enumerate(tables, start=3):
        own = table is _PROPOSAL
        picked = ", ".join(
            "ids.id"
            if name in ("id", "proposal_id")
            else f"replace(r.dedupe_key, '{THIS_PROPOSAL}', ids.id::text)"
            if name == "dedupe_key"
            else f'r."{name}"'
            for name in names
        )
        quoted = ", ".join(f'"{name}"' for name in names)
        inserts.append(
            f"{table.name}_rows AS (INSERT INTO {table.name} ({quoted}) SELECT {picked} "
            f"FROM json_populate_recordset(NULL::{table.name}, ${place}::json) WITH ORDINALITY AS r "
            f"JOIN ids ON ids.place = {'r.ordinality' if own else 'r.proposal_id'} ORDER BY r.ordinality)"
        )
    counted = ", ".join(f"'{status}'" for status in (Status.GRANTED, Status.PENDING))
    write = f"""WITH given AS MATERIALIZED (
    SELECT r.ordinality AS place, r.source_key, r.remedy_id, lower(r.case_ref) AS case_key, r.amount,
        ($1::bigint[])[r.ordinality::int] AS alone
    FROM json_populate_recordset(NULL::proposal, $3::json) WITH ORDINALITY AS r
), fresh AS (
    SELECT * FROM given AS g
    WHERE g.source_key IS NULL OR (
        NOT EXISTS (SELECT FROM proposal AS p WHERE p.source_key = g.source_key)
        AND NOT EXISTS (SELECT FROM given AS e WHERE e.source_key = g.source_key AND e.place < g.place))
), already AS (
    SELECT c.remedy_id, c.case_key, coalesce(sum(p.amount), 0) AS total
    FROM (SELECT DISTINCT remedy_id, case_key FROM fresh) AS c
    LEFT JOIN proposal AS p ON p.remedy_id = c.remedy_id AND lower(p.case_ref) = c.case_key
        AND p.created_at >= $2::timestamptz AND p.status IN ({counted})
    GROUP BY c.remedy_id, c.case_key
), running AS (
    SELECT f.place, f.alone,
        a.total + sum(f.amount) OVER (PARTITION BY f.remedy_id, f.case_key ORDER BY f.place) AS so_far
    FROM fresh AS f JOIN already AS a USING (remedy_id, case_key)
), ids AS MATERIALIZED (
    SELECT place, nextval(pg_get_serial_sequence('{_PROPOSAL.name}', 'id')) AS id
    FROM running WHERE so_far <= alone ORDER BY place
), {", ".join(inserts)}
SELECT place, id FROM ids ORDER BY place
"""
    given = ", ".join(["%(alone)s::bigint[]", "%(since)s::timestamptz", *(f"%({t.name})s::json" for t, _ in tables)])
    locks = f"SELECT count(pg_advisory_xact_lock({_CASE_LOCKS}, k)) FROM unnest(%(locks)s::int[]) AS k"
    return f"PREPARE {_NAME} AS {write}", f"{locks};\nEXECUTE {_NAME}({given})"
