"""Proposals, their history and their audit record."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.core.lifecycle import Event, Status
from bot.core.policy import CaseSoFar
from storage.batch import EventRow, child_values
from storage.models import AskLoad, Decision, Proposal, ProposalEvent, UTCDateTime
from storage.queries._pending import PENDING
from storage.queries._updates import updated

_EVENT = cast(Table, ProposalEvent.__table__)


def get_proposal(session: Session, *, proposal_id: int) -> Proposal | None:
    return session.get(Proposal, proposal_id, populate_existing=True)


def proposal_by_source_key(session: Session, *, key: str) -> Proposal | None:
    return session.scalars(select(Proposal).where(Proposal.source_key == key)).first()


def recorded_source_keys(session: Session, *, keys: Collection[str]) -> set[str]:
    """Which of these submissions are recorded already (a redelivery finds its first one)."""
    if not keys:
        return set()
    found = session.scalars(select(Proposal.source_key).where(Proposal.source_key.in_(list(keys))))
    return {key for key in found if key is not None}


def proposal_by_request_message(session: Session, *, channel: str, ts: str) -> Proposal | None:
    return session.scalars(
        select(Proposal).where(Proposal.request_channel == channel, Proposal.request_ts == ts)
    ).first()


def change_status(
    session: Session, *, proposal_id: int, from_statuses: Iterable[Status], to_status: Status, **values: Any
) -> bool:
    """The one conditional state change: True only for the caller that made it."""
    changed = updated(
        session,
        update(Proposal)
        .where(Proposal.id == proposal_id, Proposal.status.in_(list(from_statuses)))
        .values(status=to_status, **values),
    )
    return changed == 1


def take_up(session: Session, *, proposal_id: int, proposer: str) -> bool:
    """The one conditional change that makes `proposer` the proposer of a customer's request no
    one has taken up yet: True only for the first who takes it."""
    changed = updated(
        session,
        update(Proposal)
        .where(Proposal.id == proposal_id, PENDING, Proposal.proposer.is_(None))
        .values(proposer=proposer),
    )
    return changed == 1


def set_proposal(session: Session, *, proposal_id: int, **values: Any) -> None:
    """Change a proposal's columns (its status changes only through `change_status`)."""
    assert "status" not in values
    updated(session, update(Proposal).where(Proposal.id == proposal_id).values(**values))


def set_request_message(session: Session, *, proposal_id: int, channel: str, ts: str) -> None:
    updated(session, update(Proposal).where(Proposal.id == proposal_id).values(request_channel=channel, request_ts=ts))


def add_event(
    session: Session,
    *,
    proposal_id: int,
    at: datetime,
    kind: Event,
    actor: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    # A plain INSERT on the session's connection: the ORM's unit of work would cost more than it.
    row = EventRow(at=at, kind=kind, actor=actor, detail=detail or {})
    session.connection().execute(insert(_EVENT), child_values(row, proposal_id))


def events_of(session: Session, *, proposal_id: int) -> list[ProposalEvent]:
    return list(
        session.scalars(
            select(ProposalEvent).where(ProposalEvent.proposal_id == proposal_id).order_by(ProposalEvent.id)
        )
    )


def decision_of(session: Session, *, proposal_id: int) -> Decision | None:
    return session.scalars(select(Decision).where(Decision.proposal_id == proposal_id)).first()


def open_asks(session: Session, *, users: Iterable[str]) -> dict[str, int]:
    """How many pending requests ask each of `users` (none: left out)."""
    return asks_of(session, users=users)[0]


def last_asked(session: Session, *, users: Iterable[str]) -> dict[str, datetime]:
    """When the latest request that asks each of `users` was made (never: left out)."""
    return asks_of(session, users=users)[1]


# Past this many people, whom-to-ask reads every person's row (one per person ever asked: a
# team's worth) and keeps theirs: quicker than sending the driver and the planner 500 names.
_NAMED_UP_TO = 32


def asks_of(session: Session, *, users: Iterable[str]) -> tuple[dict[str, int], dict[str, datetime]]:
    """`open_asks` and `last_asked` in one read of a row per person (`AskLoad`), however many
    requests are pending and however long the history."""
    wanted = set(users)
    query = select(AskLoad.user_id, AskLoad.open_asks, AskLoad.last_asked_at)
    if len(wanted) <= _NAMED_UP_TO:
        query = query.where(AskLoad.user_id.in_(sorted(wanted)))
    open_now: dict[str, int] = {}
    latest: dict[str, datetime] = {}
    for user, count, at in session.execute(query):
        if user not in wanted:
            continue
        if count:
            open_now[user] = count
        if at is not None:
            latest[user] = at
    return open_now, latest


def pending_of(
    session: Session, *, proposer: str, case_ref: str | None = None, limit: int | None = None
) -> list[Proposal]:
    """A person's pending requests, oldest first (the first `limit` of them)."""
    query = select(Proposal).where(Proposal.proposer == proposer, PENDING)
    if case_ref is not None:
        query = query.where(func.lower(Proposal.case_ref) == case_ref.lower())
    return list(session.scalars(query.order_by(Proposal.id).limit(limit)))


def lock_routing(session: Session) -> None:
    """Serialise choosing whom to ask, so concurrent proposals spread fairly. SQLite's
    BEGIN IMMEDIATE already serialises writers; PostgreSQL needs a transaction lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_advisory_xact_lock({_ROUTING_LOCK})"))


def so_far_on_cases(
    session: Session | Connection,
    *,
    cases: Sequence[tuple[str, str]],
    since: datetime,
    except_source_keys: Collection[str] = (),
) -> list[CaseSoFar]:
    """What each (remedy id, case reference) already has from its proposals made since `since`:
    the amounts granted and the amounts still waiting for an answer, one per case, in order.
    Cases must be distinct; a case reference matches whatever its letters' case. Proposals of
    `except_source_keys` don't count (a submission arriving again must not count itself).
    One query, on the index of remedy, case and time."""
    if not cases:
        return []
    assert len({(remedy_id, case_ref.lower()) for remedy_id, case_ref in cases}) == len(cases), "cases repeat"
    params: dict[str, Any] = {"since": since, "except": list(except_source_keys)}
    for index, (remedy_id, case_ref) in enumerate(cases):
        params[f"remedy_{index}"], params[f"case_{index}"] = remedy_id, case_ref
    connection = session.connection() if isinstance(session, Session) else session
    rows = connection.execute(_so_far_query(len(cases), bool(except_source_keys)), params)
    totals: dict[tuple[int, Status], Decimal] = {(index, status): amount for index, status, amount in rows}
    zero = Decimal(0)
    return [
        CaseSoFar(granted=totals.get((index, Status.GRANTED), zero), waiting=totals.get((index, Status.PENDING), zero))
        for index in range(len(cases))
    ]


@functools.cache
def _so_far_query(count: int, excepting: bool) -> Select[int, Status, Decimal]:
    """Built once for each number of cases: a new proposal waits on this read."""
    matches = [
        and_(
            Proposal.remedy_id == bindparam(f"remedy_{index}", type_=String),
            func.lower(Proposal.case_ref) == func.lower(bindparam(f"case_{index}", type_=String)),
        )
        for index in range(count)
    ]
    place = case(*((match, literal(index, Integer)) for index, match in enumerate(matches)))
    query = select(place, Proposal.status, func.sum(Proposal.amount)).where(
        or_(*matches),
        Proposal.created_at >= bindparam("since", type_=UTCDateTime()),
        Proposal.status.in_([Status.GRANTED, Status.PENDING]),
    )
    if excepting:
        query = query.where(
            or_(Proposal.source_key.is_(None), Proposal.source_key.not_in(bindparam("except", expanding=True)))
        )
    return query.group_by(place, Proposal.status)


# The routing lock's key, a single 64-bit one.
_ROUTING_LOCK = 7352002
# PostgreSQL's advisory locks of two 32-bit keys: this first key names the (remedy, case) locks.
# (lock_routing's single 64-bit key lives in a space of its own.)
_CASE_LOCKS = 7352003


def lock_cases(session: Session, *, cases: Iterable[tuple[str, str]], and_routing: bool = False) -> None:
    """Serialise reading what a case already has (`so_far_on_cases`) with writing a proposal on
    it, per remedy and case, so simultaneous proposals on one case each count the others.
    SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL takes a transaction lock per
    case, in one order, so two transactions locking several cases never wait on each other.
    Take these before `lock_routing`; `and_routing` takes it too, after them, in the same round trip."""
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({_case_lock(remedy_id, case_ref) for remedy_id, case_ref in cases})
    if keys or and_routing:
        query = _lock_query(len(keys), and_routing)
        session.connection().execute(query, {f"key_{i}": key for i, key in enumerate(keys)})


@functools.cache
def _lock_query(count: int, and_routing: bool = False) -> Select[Any]:
    """One row, its locks taken left to right."""
    locks = [func.pg_advisory_xact_lock(_CASE_LOCKS, bindparam(f"key_{i}", type_=Integer)) for i in range(count)]
    if and_routing:
        locks.append(func.pg_advisory_xact_lock(literal_column(str(_ROUTING_LOCK))))
    return select(*locks)


def _case_lock(remedy_id: str, case_ref: str) -> int:
    """A case's lock, the same in every process (Python's own hash is not)."""
    digest = hashlib.blake2b(f"{remedy_id}\0{case_ref.lower()}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)
