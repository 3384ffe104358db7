"""Deadlines (re-routing, expiry) and who is away."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session

from bot.core.lifecycle import Event, Status
from bot.core.policy import Tier
from bot.core.vocabulary import OutboxKind, OutboxStatus
from storage.models import AskLoad, Availability, OutboxMessage, Proposal, ProposalEvent
from storage.queries._pending import PENDING
from storage.queries._updates import updated


def earliest_deadlines(session: Session) -> tuple[datetime | None, datetime | None]:
    """When the first pending request falls due for re-routing, and for expiry (None: none
    will): the schedule looks before it writes, so a pass with nothing due takes no lock."""
    reroute = select(func.min(Proposal.reroute_at)).where(PENDING).scalar_subquery()
    expire = select(func.min(Proposal.expire_at)).where(PENDING).scalar_subquery()
    first_reroute, first_expire = session.execute(select(reroute, expire)).one()
    return first_reroute, first_expire


def unscheduled_requests(session: Session) -> bool:
    """Are there pending requests from before deadlines existed (see `adopt_deadlines`)?"""
    return bool(session.scalar(select(exists().where(_UNSCHEDULED))))


_UNSCHEDULED = and_(PENDING, Proposal.tier.in_([Tier.PEER, Tier.LEAD]), Proposal.expire_at.is_(None))


def adopt_deadlines(session: Session, *, reroute_at: datetime, expire_at: datetime) -> int:
    """Pending proposals from before deadlines existed join the schedule from now."""
    return updated(
        session,
        update(Proposal).where(_UNSCHEDULED).values(reroute_at=reroute_at, expire_at=expire_at),
    )


# Both due lists are locked until the caller's transaction ends (on PostgreSQL; SQLite has one
# writer at a time anyway), and a request locked elsewhere, being decided this moment, is left
# out: a pass then changes only rows it already holds, so it never waits on a decision that
# waits on it (a decision changes the asked person's `ask_load` row, which the pass may hold).


def due_for_reroute(session: Session, *, now: datetime, limit: int) -> list[Proposal]:
    """The pending requests whose time to ask someone else has come, the longest due first."""
    return list(
        session.scalars(
            select(Proposal)
            .where(PENDING, Proposal.reroute_at <= now)
            .order_by(Proposal.reroute_at, Proposal.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def due_for_expiry(session: Session, *, now: datetime, limit: int) -> list[Proposal]:
    """The pending requests past their time, the longest past first."""
    return list(
        session.scalars(
            select(Proposal)
            .where(PENDING, Proposal.expire_at <= now)
            .order_by(Proposal.expire_at, Proposal.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def claim_reroute(
    session: Session, *, proposal_id: int, was_due_at: datetime, asked: str | None, next_reroute_at: datetime | None
) -> bool:
    """Move the ask on; the WHERE on the old deadline makes two instances act once."""
    changed = updated(
        session,
        update(Proposal)
        .where(Proposal.id == proposal_id, Proposal.status == Status.PENDING, Proposal.reroute_at == was_due_at)
        .values(asked=asked, reroute_at=next_reroute_at),
    )
    return changed == 1


def claim_reroutes(
    session: Session, *, claims: Sequence[tuple[int, datetime, str | None]], next_reroute_at: datetime | None
) -> set[int]:
    """`claim_reroute` for several requests, (id, due at, whom it asks now) each, in one
    statement; the ids it moved."""
    if not claims:
        return set()

    def of_each(place: int, column: Any) -> Any:  # each request's own value, bound as its column binds
        return case({claim[0]: literal(claim[place], column.type) for claim in claims}, value=Proposal.id)

    statement = (
        update(Proposal)
        .where(
            Proposal.id.in_([claim[0] for claim in claims]),
            Proposal.status == Status.PENDING,
            Proposal.reroute_at == of_each(1, Proposal.reroute_at),
        )
        .values(asked=of_each(2, Proposal.asked), reroute_at=next_reroute_at)
        .returning(Proposal.id)
    )
    return set(session.connection().execute(statement).scalars())


def latest_asked_besides(session: Session, *, users: Collection[str], besides: Collection[int]) -> dict[str, datetime]:
    """When each of `users` was last asked by a request other than `besides` (never: left out):
    their `ask_load` time once `besides` ask someone else. One statement of one shape, however
    many people (so compiled once), a step down the index of asked and time for each."""
    if not users:
        return {}
    latest = (
        select(func.max(Proposal.created_at))
        .where(Proposal.asked == AskLoad.user_id, Proposal.id.not_in(list(besides)))
        .scalar_subquery()
    )
    rows = session.execute(select(AskLoad.user_id, latest).where(AskLoad.user_id.in_(sorted(users))))
    return {user: at for user, at in rows if at is not None}


def asked_so_far(session: Session, *, proposal_id: int) -> list[str]:
    """Everyone asked about a proposal, first to last (not someone replaced before being asked)."""
    return asked_so_far_of(session, proposal_ids=[proposal_id]).get(proposal_id, [])


def asked_so_far_of(session: Session, *, proposal_ids: Collection[int]) -> dict[int, list[str]]:
    """`asked_so_far` for several proposals in one query (a proposal no one was asked about is left out).
    For a customer's request an agent took up, only who was asked since: those asked to take it up
    were asked another question, and may not be the ones who can agree."""
    if not proposal_ids:
        return {}
    rows = session.execute(
        select(ProposalEvent.proposal_id, ProposalEvent.kind, ProposalEvent.detail)
        .where(
            ProposalEvent.proposal_id.in_(list(proposal_ids)),
            ProposalEvent.kind.in_([Event.ASKED, Event.TAKEN]),
        )
        .order_by(ProposalEvent.proposal_id, ProposalEvent.id)
    )
    details: dict[int, list[dict[str, Any]]] = {}
    for proposal_id, kind, detail in rows:
        if kind == Event.TAKEN:
            details.pop(proposal_id, None)
        elif detail:
            details.setdefault(proposal_id, []).append(detail)
    return {proposal_id: _asked(found) for proposal_id, found in details.items()}


def _asked(details: list[dict[str, Any]]) -> list[str]:
    replaced = {str(d["instead_of"]) for d in details if d.get("instead_of")}
    return [str(d["asked"]) for d in details if d.get("asked") and d["asked"] not in replaced]


def unposted_requests_asking(session: Session, *, user: str) -> list[tuple[Proposal, datetime]]:
    """Pending requests that ask `user` and are not posted yet, each with when it is due to be posted."""
    rows = session.execute(
        select(Proposal, OutboxMessage.next_attempt_at)
        .join(OutboxMessage, OutboxMessage.proposal_id == Proposal.id)
        .where(
            Proposal.asked == user,
            PENDING,
            Proposal.request_ts.is_(None),
            OutboxMessage.kind == OutboxKind.REQUEST,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .order_by(Proposal.id)
    )
    return [(proposal, due) for proposal, due in rows]


def away_users(session: Session, *, now: datetime) -> dict[str, datetime | None]:
    rows = session.execute(
        select(Availability.user_id, Availability.away_until).where(
            or_(Availability.away_until.is_(None), Availability.away_until > now)
        )
    )
    return dict(rows.all())


def set_away(session: Session, *, user: str, since: datetime, until: datetime | None) -> None:
    existing = session.get(Availability, user)
    if existing is None:
        session.add(Availability(user_id=user, away_since=since, away_until=until))
    else:
        existing.away_since, existing.away_until = since, until


def set_back(session: Session, *, user: str) -> bool:
    existing = session.get(Availability, user)
    if existing is None:
        return False
    session.delete(existing)
    return True
