"""The decisions between two times, oldest first: what the API lists and exports.

The smallest version of this contract (CONTRACT.md B) the API needs; the full one replaces it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.core.export import DecisionRow
from bot.core.lifecycle import Status
from bot.services.context import Context
from storage import db
from storage.models import Approval, Decision, Proposal


def decisions_between(
    ctx: Context, *, since: datetime, until: datetime | None = None, limit: int | None = None
) -> list[DecisionRow]:
    """Proposals that ended at or after `since` and before `until`, oldest first."""
    query = (
        select(Proposal, Approval.via, Decision.review_outcome, Decision.outcome)
        .outerjoin(Approval, Approval.proposal_id == Proposal.id)
        .outerjoin(Decision, Decision.proposal_id == Proposal.id)
        .where(Proposal.status != Status.PENDING, Proposal.decided_at.is_not(None), Proposal.decided_at >= since)
        .order_by(Proposal.decided_at, Proposal.id)
    )
    if until is not None:
        query = query.where(Proposal.decided_at < until)
    if limit is not None:
        query = query.limit(limit)
    with db.reading(ctx.sessions) as session:
        found = session.execute(query).all()
    return [
        DecisionRow(
            id=p.id,
            decided_at=p.decided_at or p.created_at,  # never None here: the query asks for ended ones
            status=p.status,
            remedy_id=p.remedy_id,
            remedy=p.remedy_label,
            amount=p.amount,
            unit=p.unit,
            case_ref=p.case_ref,
            tier=p.tier,
            proposer=p.proposer,
            decided_by=p.decided_by,
            via=via,
            review=review,
            customer_outcome=outcome,
        )
        for p, via, review, outcome in found
    ]
