"""How customers took the remedies granted to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.core.lifecycle import Status
from bot.core.vocabulary import CustomerOutcome
from storage.models import Decision, Proposal
from storage.queries._updates import updated


def granted_on_case(session: Session, *, proposer: str, case_ref: str) -> Proposal | None:
    """The proposer's latest granted proposal on a case (references match whatever their case)."""
    return session.scalars(
        select(Proposal)
        .where(
            Proposal.proposer == proposer,
            Proposal.status == Status.GRANTED,
            func.lower(Proposal.case_ref) == case_ref.lower(),
        )
        .order_by(Proposal.id.desc())
        .limit(1)
    ).first()


def record_outcome(session: Session, *, proposal_id: int, outcome: CustomerOutcome, at: datetime) -> bool:
    """Keep the customer's outcome with the decision; the latest word counts. False when the
    proposal has no decision."""
    changed = updated(
        session, update(Decision).where(Decision.proposal_id == proposal_id).values(outcome=outcome, outcome_at=at)
    )
    return changed == 1


def outcomes_between(
    session: Session, *, start: datetime, end: datetime
) -> list[tuple[str, str, CustomerOutcome, int]]:
    """(remedy id, remedy label, outcome, how many) for decisions granted in (start, end] with an
    outcome told, counted by the database on the index of decisions that have one."""
    rows = session.execute(
        select(Proposal.remedy_id, func.max(Proposal.remedy_label), Decision.outcome, func.count())
        .join(Proposal, Proposal.id == Decision.proposal_id)
        .where(Decision.granted_at > start, Decision.granted_at <= end, Decision.outcome.is_not(None))
        .group_by(Proposal.remedy_id, Decision.outcome)
        .order_by(Proposal.remedy_id)
    )
    return [(remedy_id, label, outcome, count) for remedy_id, label, outcome, count in rows if outcome is not None]
