"""Deadlines (re-routing, expiry) and who is away."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.core.lifecycle import Event, Status
from bot.core.policy import Tier
from bot.core.vocabulary import OutboxKind, OutboxStatus
from storage.models import Availability, OutboxMessage, Proposal, ProposalEvent
from storage.queries._updates import updated


def adopt_deadlines(session: Session, *, reroute_at: datetime, expire_at: datetime) -> int:
    """Pending proposals from before deadlines existed join the schedule from now."""
    return updated(
        session,
        update(Proposal)
        .where(
            Proposal.status == Status.PENDING,
            Proposal.tier.in_([Tier.PEER, Tier.LEAD]),
            Proposal.expire_at.is_(None),
        )
        .values(reroute_at=reroute_at, expire_at=expire_at),
    )


def due_for_reroute(session: Session, *, now: datetime, limit: int) -> list[Proposal]:
    return list(
        session.scalars(
            select(Proposal)
            .where(Proposal.status == Status.PENDING, Proposal.reroute_at <= now)
            .order_by(Proposal.reroute_at)
            .limit(limit)
        )
    )


def due_for_expiry(session: Session, *, now: datetime, limit: int) -> list[Proposal]:
    return list(
        session.scalars(
            select(Proposal)
            .where(Proposal.status == Status.PENDING, Proposal.expire_at <= now)
            .order_by(Proposal.expire_at)
            .limit(limit)
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


def asked_so_far(session: Session, *, proposal_id: int) -> list[str]:
    """Everyone asked about a proposal, first to last (not someone replaced before being asked)."""
    rows = list(
        session.scalars(
            select(ProposalEvent.detail)
            .where(ProposalEvent.proposal_id == proposal_id, ProposalEvent.kind == Event.ASKED)
            .order_by(ProposalEvent.id)
        )
    )
    replaced = {str(d["instead_of"]) for d in rows if d and d.get("instead_of")}
    return [str(d["asked"]) for d in rows if d and d.get("asked") and d["asked"] not in replaced]


def unposted_requests_asking(session: Session, *, user: str) -> list[tuple[Proposal, datetime]]:
    """Pending requests that ask `user` and are not posted yet, each with when it is due to be posted."""
    rows = session.execute(
        select(Proposal, OutboxMessage.next_attempt_at)
        .join(OutboxMessage, OutboxMessage.proposal_id == Proposal.id)
        .where(
            Proposal.asked == user,
            Proposal.status == Status.PENDING,
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
