"""Leads' review of granted decisions, and what people see of their own and others' work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, literal_column, or_, select, update
from sqlalchemy.orm import Session

from bot.core.lifecycle import Status
from bot.core.policy import Tier
from bot.core.vocabulary import ReviewOutcome
from storage.models import Decision, Proposal
from storage.queries._pending import PENDING
from storage.queries._updates import updated

# In the words of the partial index of decisions waiting for a review (see `_pending` for why).
UNREVIEWED_DECISIONS: tuple[ColumnElement[bool], ...] = (
    Decision.reviewed_at.is_(None),
    Decision.tier != literal_column(f"'{Tier.CUSTOMER.value}'"),
)


def review_queue(session: Session, *, limit: int) -> list[tuple[Proposal, Decision]]:
    rows = session.execute(
        select(Proposal, Decision)
        .join(Decision, Decision.proposal_id == Proposal.id)
        .where(*UNREVIEWED_DECISIONS)
        .order_by(Decision.granted_at)
        .limit(limit)
    )
    return [(p, d) for p, d in rows]


def review_queue_size(session: Session, *, up_to: int) -> int:
    """How many decisions wait for a review, counted no further than `up_to`: past it, the
    count costs as much as the history it would read."""
    waiting = select(Decision.id).where(*UNREVIEWED_DECISIONS).limit(up_to).subquery()
    return int(session.scalar(select(func.count()).select_from(waiting)) or 0)


def record_review(
    session: Session, *, proposal_id: int, at: datetime, by: str, outcome: ReviewOutcome, note: str | None
) -> bool:
    """Conditional: a decision is reviewed once, whoever clicks first."""
    changed = updated(
        session,
        update(Decision)
        .where(Decision.proposal_id == proposal_id, Decision.reviewed_at.is_(None))
        .values(reviewed_at=at, reviewed_by=by, review_outcome=outcome, coaching_note=note),
    )
    return changed == 1


def recent_of(session: Session, *, user: str, limit: int) -> list[Proposal]:
    return list(
        session.scalars(
            select(Proposal)
            .where(Proposal.proposer == user)
            .order_by(Proposal.created_at.desc(), Proposal.id.desc())
            .limit(limit)
        )
    )


def waiting_to_be_taken_up(session: Session, *, limit: int) -> list[Proposal]:
    """Customers' requests no agent has taken up yet, oldest first (read along the pending rows'
    own index: there are only ever as many as are waiting)."""
    return list(
        session.scalars(
            select(Proposal)
            .where(PENDING, Proposal.proposer.is_(None))
            .order_by(Proposal.created_at, Proposal.id)
            .limit(limit)
        )
    )


def pending_for_others(session: Session, *, user: str, limit: int) -> list[Proposal]:
    """Pending requests someone else proposed, the ones `user` was asked about first, each
    group oldest first. Two reads of the pending rows' indexes, each stopping at `limit`."""
    others = (Proposal.proposer != user, Proposal.tier.in_([Tier.PEER, Tier.LEAD]))
    asked = list(
        session.scalars(
            select(Proposal)
            .where(PENDING, Proposal.asked == user, *others)
            .order_by(Proposal.created_at, Proposal.id)
            .limit(limit)
        )
    )
    rest = (
        list(
            session.scalars(
                select(Proposal)
                .where(PENDING, or_(Proposal.asked.is_(None), Proposal.asked != user), *others)
                .order_by(Proposal.created_at, Proposal.id)
                .limit(limit - len(asked))
            )
        )
        if len(asked) < limit
        else []
    )
    return asked + rest


def kudos_count(session: Session, *, user: str) -> int:
    """Celebrations a person has been part of: as the one who decided, or the one who agreed.
    Every granted proposal has its decision, written with the grant, so their own are counted
    from the index of proposer and status alone; those they agreed to, from decisions' index
    of who agreed (no one agrees to their own)."""
    own = select(func.count()).select_from(Proposal).where(Proposal.proposer == user, Proposal.status == Status.GRANTED)
    agreed = (
        select(func.count())
        .select_from(Decision)
        .join(Proposal, Proposal.id == Decision.proposal_id)
        .where(Decision.agreed_by == user, Proposal.proposer != user)
    )
    return int(session.scalar(own) or 0) + int(session.scalar(agreed) or 0)
