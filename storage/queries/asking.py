"""What a batch of new requests reads under its locks, in one round trip: which of its
submissions are recorded already, what each of its cases has, who is away, and the open asks
and when they were last asked of the few who can be picked. The same reads as
`recorded_source_keys`, `so_far_on_cases`, `away_users` and `asks_of`, sent as one statement (a
UNION ALL of them): a batch holds the routing lock while it reads, and under load every round
trip is a wait to win the interpreter back.

Of each pool of people who may be asked, only its first `picks` in the order whom-to-ask picks
(fewest open asks, never asked first, asked longest ago, the roster's order) who are around:
a batch of n requests picks among its first n + 1 (each pick moves only the one picked back,
and each request passes over only its proposer), where reading every person's row, some 500,
and weighing each at every pick took a millisecond under the lock."""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    bindparam,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from bot.core.lifecycle import Status
from bot.core.policy import CaseSoFar
from storage.models import AskLoad, Availability, Hundredths, Proposal, UTCDateTime
from storage.queries.proposals import _so_far_query

_AMOUNT = Hundredths()


@dataclass(frozen=True)
class BeforeAsking:
    recorded: set[str]  # the batch's source keys already recorded
    so_far: list[CaseSoFar]  # one per case, in order
    away: dict[str, datetime | None]
    shortlisted: frozenset[str]  # the people read of the pools: who may be picked
    open_asks: dict[str, int]  # of the shortlisted; none: left out
    last_asked: dict[str, datetime]  # of the shortlisted; never: left out


def before_asking(
    session: Session,
    *,
    cases: Sequence[tuple[str, str]],
    since: datetime,
    keys: Collection[str],
    pools: Sequence[Sequence[str]],
    picks: int,
    now: datetime,
) -> BeforeAsking:
    """The reads (see the module) for distinct `cases` made since `since`, the submissions
    `keys`, and of each of `pools` (people in the roster's order) the first `picks` who are
    around. The caller holds the cases' locks and the routing lock."""
    assert cases, "a batch has a case"
    dialect = session.get_bind().dialect
    params: dict[str, Any] = {"since": since, "keys": sorted(keys), "now": now, "picks": picks}
    for index, pool in enumerate(pools):
        people = list(dict.fromkeys(pool))
        params[f"pool_{index}"] = people if dialect.name == "postgresql" else json.dumps(people)
    for index, (remedy_id, case_ref) in enumerate(cases):
        params[f"remedy_{index}"], params[f"case_{index}"] = remedy_id, case_ref
    rows = session.connection().execute(_query(len(cases), bool(keys), len(pools), dialect.name), params)
    recorded: set[str] = set()
    totals: dict[tuple[int, str], Decimal] = {}
    away: dict[str, datetime | None] = {}
    shortlisted: set[str] = set()
    open_asks: dict[str, int] = {}
    last_asked: dict[str, datetime] = {}
    for kind, name, number, at in rows:
        if kind == "key":
            recorded.add(name)
        elif kind == "case":
            place, status = name.split(":", 1)
            totals[(int(place), status)] = _AMOUNT.process_result_value(number, dialect) or Decimal(0)
        elif kind == "away":
            away[name] = at
        else:
            shortlisted.add(name)
            if number:
                open_asks[name] = number
            if at is not None:
                last_asked[name] = at
    zero = Decimal(0)
    so_far = [
        CaseSoFar(granted=totals.get((i, Status.GRANTED), zero), waiting=totals.get((i, Status.PENDING), zero))
        for i in range(len(cases))
    ]
    return BeforeAsking(
        recorded=recorded,
        so_far=so_far,
        away=away,
        shortlisted=frozenset(shortlisted),
        open_asks=open_asks,
        last_asked=last_asked,
    )


@functools.cache
def _query(count: int, with_keys: bool, pools: int, dialect: str) -> CompoundSelect[Any]:
    """Rows of (kind, name, number, at); built once for each shape. The first branch gives the
    columns their types, which every row's values are read with."""
    no_number, no_time = sql_cast(null(), BigInteger), sql_cast(null(), UTCDateTime())
    so_far = _so_far_query(count, False).subquery()
    place, status, total = list(so_far.c)
    around = or_(Availability.away_until.is_(None), Availability.away_until > bindparam("now", type_=UTCDateTime()))
    branches: list[Any] = [
        select(
            literal("case", String).label("kind"),
            (sql_cast(place, String) + ":" + sql_cast(status, String)).label("name"),
            sql_cast(total, BigInteger).label("number"),
            no_time.label("at"),
        ),
        select(literal("away", String), Availability.user_id, no_number, Availability.away_until).where(around),
    ]
    branches += [_shortlist(f"pool_{index}", dialect, around) for index in range(pools)]
    if with_keys:
        branches.append(
            select(literal("key", String), Proposal.source_key, no_number, no_time).where(
                Proposal.source_key.in_(bindparam("keys", type_=String, expanding=True))
            )
        )
    return union_all(*branches)


def _shortlist(pool: str, dialect: str, away: ColumnElement[bool]) -> Select[Any]:
    """The first `picks` of `pool` who are around, in the order whom-to-ask picks: a list bound
    as an array (PostgreSQL) or as JSON (SQLite), its order kept as `ord`."""
    if dialect == "postgresql":
        listed = func.unnest(bindparam(pool, type_=ARRAY(String)))
        people = listed.table_valued("user_id", with_ordinality="ord").render_derived()
        user, order = people.c.user_id, people.c.ord
    else:
        people = func.json_each(bindparam(pool, type_=String)).table_valued("key", "value")
        user, order = people.c.value, people.c.key
    asks = func.coalesce(AskLoad.open_asks, 0)
    first = (
        select(
            literal("asks", String).label("kind"), user.label("name"), sql_cast(asks, BigInteger), AskLoad.last_asked_at
        )
        .select_from(people.outerjoin(AskLoad, AskLoad.user_id == user))
        .where(~select(Availability.user_id).where(Availability.user_id == user, away).exists())
        .order_by(asks, AskLoad.last_asked_at.is_not(None), AskLoad.last_asked_at, order)
        .limit(bindparam("picks", type_=Integer))
    )
    return select(first.subquery())
