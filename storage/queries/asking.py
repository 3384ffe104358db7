"""What a batch of new requests reads under its locks, in one round trip: which of its
submissions are recorded already, what each of its cases has, who is away, and each person's
open asks and when they were last asked. The same reads as `recorded_source_keys`,
`so_far_on_cases`, `away_users` and `asks_of`, sent as one statement (a UNION ALL of them): a
batch holds the routing lock while it reads, and under load every round trip is a wait to win
the interpreter back."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CompoundSelect, String, bindparam, literal, null, or_, select, union_all
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from bot.core.lifecycle import Status
from bot.core.policy import CaseSoFar
from storage.models import AskLoad, Availability, Hundredths, Proposal, UTCDateTime
from storage.queries.proposals import _NAMED_UP_TO, _so_far_query

_AMOUNT = Hundredths()


@dataclass(frozen=True)
class BeforeAsking:
    recorded: set[str]  # the batch's source keys already recorded
    so_far: list[CaseSoFar]  # one per case, in order
    away: dict[str, datetime | None]
    open_asks: dict[str, int]  # none: left out
    last_asked: dict[str, datetime]  # never: left out


def before_asking(
    session: Session,
    *,
    cases: Sequence[tuple[str, str]],
    since: datetime,
    keys: Collection[str],
    people: Collection[str],
    now: datetime,
) -> BeforeAsking:
    """The reads (see the module) for distinct `cases` made since `since`, the submissions
    `keys`, and the people who may be asked, `people`. The caller holds the cases' locks and
    the routing lock."""
    assert cases, "a batch has a case"
    wanted = set(people)
    named = len(wanted) <= _NAMED_UP_TO  # past that, every person's row, as `asks_of` reads
    params: dict[str, Any] = {"since": since, "keys": sorted(keys), "now": now}
    if named:
        params["people"] = sorted(wanted)
    for index, (remedy_id, case_ref) in enumerate(cases):
        params[f"remedy_{index}"], params[f"case_{index}"] = remedy_id, case_ref
    rows = session.connection().execute(_query(len(cases), bool(keys), named), params)
    recorded: set[str] = set()
    totals: dict[tuple[int, str], Decimal] = {}
    away: dict[str, datetime | None] = {}
    open_asks: dict[str, int] = {}
    last_asked: dict[str, datetime] = {}
    dialect = session.get_bind().dialect
    for kind, name, number, at in rows:
        if kind == "key":
            recorded.add(name)
        elif kind == "case":
            place, status = name.split(":", 1)
            totals[(int(place), status)] = _AMOUNT.process_result_value(number, dialect) or Decimal(0)
        elif kind == "away":
            away[name] = at
        elif name in wanted:
            if number:
                open_asks[name] = number
            if at is not None:
                last_asked[name] = at
    zero = Decimal(0)
    so_far = [
        CaseSoFar(granted=totals.get((i, Status.GRANTED), zero), waiting=totals.get((i, Status.PENDING), zero))
        for i in range(len(cases))
    ]
    return BeforeAsking(recorded=recorded, so_far=so_far, away=away, open_asks=open_asks, last_asked=last_asked)


@functools.cache
def _query(count: int, with_keys: bool, named: bool) -> CompoundSelect[Any]:
    """Rows of (kind, name, number, at); built once for each shape. The first branch gives the
    columns their types, which every row's values are read with."""
    no_number, no_time = sql_cast(null(), BigInteger), sql_cast(null(), UTCDateTime())
    so_far = _so_far_query(count, False).subquery()
    place, status, total = list(so_far.c)
    branches: list[Any] = [
        select(
            literal("case", String).label("kind"),
            (sql_cast(place, String) + ":" + sql_cast(status, String)).label("name"),
            sql_cast(total, BigInteger).label("number"),
            no_time.label("at"),
        ),
        select(literal("away", String), Availability.user_id, no_number, Availability.away_until).where(
            or_(Availability.away_until.is_(None), Availability.away_until > bindparam("now", type_=UTCDateTime()))
        ),
    ]
    asks = select(
        literal("asks", String), AskLoad.user_id, sql_cast(AskLoad.open_asks, BigInteger), AskLoad.last_asked_at
    )
    if named:
        asks = asks.where(AskLoad.user_id.in_(bindparam("people", expanding=True)))
    branches.append(asks)
    if with_keys:
        branches.append(
            select(literal("key", String), Proposal.source_key, no_number, no_time).where(
                Proposal.source_key.in_(bindparam("keys", type_=String, expanding=True))
            )
        )
    return union_all(*branches)
