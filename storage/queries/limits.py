"""Limits leads changed on top of the policy file, and the evidence that suggests changes."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, delete, func, select
from sqlalchemy.orm import Session

from bot.core.limits import Overrides, PersonalLimits
from bot.core.policy import Tier
from bot.core.trust import COVERING, RAISES, Evidence
from bot.core.vocabulary import LimitChangeKind, ReviewOutcome
from storage.models import Decision, LimitChange, Proposal, TrustDismissal


def limits_version(session: Session) -> int:
    """Grows with every change: a cheap way to tell the limits in force have moved."""
    return int(session.scalar(select(func.max(LimitChange.id))) or 0)


def limit_overrides(session: Session) -> tuple[Overrides, PersonalLimits]:
    """The latest limit of each (remedy, tier) a lead set for the team, and of each (person,
    remedy) alone limit offered to one agent, since that remedy's last reset."""
    team: dict[tuple[str, Tier], Decimal] = {}
    personal: dict[tuple[str, str], Decimal] = {}
    for change in session.scalars(select(LimitChange).order_by(LimitChange.id)):
        if change.kind is LimitChangeKind.RESET:
            for key in [k for k in team if k[0] == change.remedy_id]:
                del team[key]
            for mine in [k for k in personal if k[1] == change.remedy_id]:
                del personal[mine]
        elif change.person is not None and change.to_amount is not None:
            personal[(change.person, change.remedy_id)] = change.to_amount
        elif change.tier is not None and change.to_amount is not None:
            team[(change.remedy_id, change.tier)] = change.to_amount
    return team, personal


def add_limit_change(
    session: Session,
    *,
    remedy_id: str,
    kind: LimitChangeKind,
    by: str,
    at: datetime,
    tier: Tier | None = None,
    from_amount: Decimal | None = None,
    to_amount: Decimal | None = None,
    evidence: dict[str, Any] | None = None,
    person: str | None = None,
) -> LimitChange:
    change = LimitChange(
        remedy_id=remedy_id,
        person=person,
        kind=kind,
        tier=tier,
        from_amount=from_amount,
        to_amount=to_amount,
        by=by,
        at=at,
        evidence=evidence or {},
    )
    session.add(change)
    session.flush()
    return change


def limit_changes(session: Session, *, limit: int) -> list[LimitChange]:
    return list(session.scalars(select(LimitChange).order_by(LimitChange.id.desc()).limit(limit)))


def dismissals(session: Session, *, since: datetime) -> dict[tuple[str, Tier], int]:
    """Suggestions set aside with "Not now" since `since`: the evidence's size when they were."""
    rows = session.scalars(select(TrustDismissal).where(TrustDismissal.at > since))
    return {(d.remedy_id, d.tier): d.decisions for d in rows}


def decisions_since(session: Session, *, remedy_id: str, tier: Tier, since: datetime) -> int:
    """Granted decisions of a remedy at a tier since `since`: the size of its evidence."""
    count = session.scalar(
        select(func.count())
        .select_from(Decision)
        .join(Proposal, Proposal.id == Decision.proposal_id)
        .where(Decision.granted_at > since, Decision.tier == tier, Proposal.remedy_id == remedy_id)
    )
    return int(count or 0)


def dismiss(session: Session, *, remedy_id: str, tier: Tier, decisions: int, by: str, at: datetime) -> None:
    session.execute(delete(TrustDismissal).where(TrustDismissal.remedy_id == remedy_id, TrustDismissal.tier == tier))
    session.add(TrustDismissal(remedy_id=remedy_id, tier=tier, decisions=decisions, by=by, at=at))


def trust_evidence(session: Session, *, since: datetime, at_least: int) -> list[Evidence]:
    """Granted decisions since `since` of each remedy at each tier whose decisions can raise a
    limit (peer, lead): how many, how many leads reviewed, how many needed a talk, and for
    those with `at_least` decisions the median amount and the amount covering most of them.
    Counted in SQL on the decisions' time index; each figure is one indexed read."""
    recent = (Decision.granted_at > since, Decision.tier.in_(list(RAISES)))
    talk = _talks()
    rows = session.execute(
        select(Proposal.remedy_id, Decision.tier, func.count(), func.count(Decision.reviewed_at), talk)
        .join(Proposal, Proposal.id == Decision.proposal_id)
        .where(*recent)
        .group_by(Proposal.remedy_id, Decision.tier)
        .order_by(Proposal.remedy_id, Decision.tier)
    ).all()
    return [
        _evidence(session, since=since, remedy_id=remedy_id, tier=Tier(tier), counts=(decisions, reviewed, talks or 0))
        for remedy_id, tier, decisions, reviewed, talks in rows
        if decisions >= at_least
    ]


def personal_evidence(session: Session, *, since: datetime, at_least: int) -> list[tuple[str, Evidence]]:
    """Each agent's own decisions with a peer since `since`, per remedy, where there are at least
    `at_least` and leads reviewed every one well: the evidence for a personal alone limit."""
    recent = (Decision.granted_at > since, Decision.tier == Tier.PEER)
    talk = _talks()
    count, reviewed = func.count(), func.count(Decision.reviewed_at)
    rows = session.execute(
        select(Proposal.proposer, Proposal.remedy_id, count, reviewed, talk)
        .join(Proposal, Proposal.id == Decision.proposal_id)
        .where(*recent, Proposal.proposer.is_not(None))
        .group_by(Proposal.proposer, Proposal.remedy_id)
        .having(count >= at_least, reviewed == count, talk == 0)
        .order_by(Proposal.proposer, Proposal.remedy_id)
    ).all()
    return [
        (
            person,
            _evidence(session, since=since, remedy_id=remedy_id, tier=Tier.PEER, counts=(n, n, 0), proposer=person),
        )
        for person, remedy_id, n, _, _ in rows
        if person is not None
    ]


def _evidence(
    session: Session,
    *,
    since: datetime,
    remedy_id: str,
    tier: Tier,
    counts: tuple[int, int, int],
    proposer: str | None = None,
) -> Evidence:
    """Evidence from its counts (decisions, reviewed, talks), with the median amount and the
    amount covering COVERING of the decisions, each one indexed read."""
    decisions, reviewed, talks = counts

    def nth(index: int) -> Decimal:
        return _nth_amount(session, since=since, remedy_id=remedy_id, tier=tier, index=index, proposer=proposer)

    return Evidence(
        remedy_id=remedy_id,
        tier=tier,
        decisions=decisions,
        reviewed=reviewed,
        talk=int(talks),
        median=nth((decisions - 1) // 2),
        covering=nth(math.ceil(decisions * COVERING) - 1),
    )


def _talks() -> ColumnElement[int]:
    """How many of the decisions a lead reviewed "Let's talk"."""
    return func.sum(case((Decision.review_outcome == ReviewOutcome.TALK, 1), else_=0))


def _nth_amount(
    session: Session, *, since: datetime, remedy_id: str, tier: Tier, index: int, proposer: str | None = None
) -> Decimal:
    """The amount at `index` of the decisions' amounts in order, smallest first (of one agent's
    decisions, with `proposer`)."""
    query = (
        select(Proposal.amount)
        .join(Decision, Decision.proposal_id == Proposal.id)
        .where(Decision.granted_at > since, Decision.tier == tier, Proposal.remedy_id == remedy_id)
    )
    if proposer is not None:
        query = query.where(Proposal.proposer == proposer)
    amount = session.scalar(query.order_by(Proposal.amount).offset(max(0, index)).limit(1))
    return amount if amount is not None else Decimal(0)
