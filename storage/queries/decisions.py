"""Proposals that ended, as rows for an export: one read, joined with how each was agreed and,
for grants, its review and how the customer took it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.core.export import DecisionRow
from storage.models import Approval, Decision, Proposal


def ended_between(
    session: Session, *, since: datetime, until: datetime | None, limit: int | None, after_id: int | None = None
) -> list[DecisionRow]:
    """Proposals that ended at `since` or later (and no later than `until`), oldest first, at most
    `limit` of them; with `after_id`, those at `since` itself only past that id (a page's edge).
    Read through the index of ended proposals by time (`decided_at IS NOT NULL` in those words,
    which SQLite needs to use a partial index)."""
    query = (
        select(
            Proposal.id,
            Proposal.decided_at,
            Proposal.status,
            Proposal.remedy_id,
            Proposal.remedy_label,
            Proposal.amount,
            Proposal.unit,
            Proposal.case_ref,
            Proposal.tier,
            Proposal.proposer,
            Proposal.decided_by,
            Approval.via,
            Decision.review_outcome,
            Decision.outcome,
        )
        .outerjoin(Approval, Approval.proposal_id == Proposal.id)
        .outerjoin(Decision, Decision.proposal_id == Proposal.id)
        .where(Proposal.decided_at.is_not(None), Proposal.decided_at >= since)
        .order_by(Proposal.decided_at, Proposal.id)
    )
    if after_id is not None:
        query = query.where(or_(Proposal.decided_at > since, Proposal.id > after_id))
    if until is not None:
        query = query.where(Proposal.decided_at <= until)
    if limit is not None:
        query = query.limit(limit)
    return [
        DecisionRow(
            id=row.id,
            decided_at=row.decided_at,
            status=row.status,
            remedy_id=row.remedy_id,
            remedy=row.remedy_label,
            amount=row.amount,
            unit=row.unit,
            case_ref=row.case_ref,
            tier=row.tier,
            proposer=row.proposer,
            decided_by=row.decided_by,
            via=row.via,
            review=row.review_outcome,
            customer_outcome=row.outcome,
        )
        for row in session.execute(query)
    ]
