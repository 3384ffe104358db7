"""Limits leads changed on top of the policy file, and the evidence that suggests changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import case, delete, func, select
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
    limit (peer, lead), where there are at least `at_least`: how many, how many leads reviewed,
    how many needed a talk, the median amount and the amount covering most of them. One pass
    over the window on the decisions' time index (see `_evidence_rows`)."""
    rows = _evidence_rows(session, since=since, tiers=list(RAISES), at_least=at_least)
    return [evidence for (_, evidence) in rows]


def personal_evidence(session: Session, *, since: datetime, at_least: int) -> list[tuple[str, Evidence]]:
    """Each agent's own decisions with a peer since `since`, per remedy, where there are at least
    `at_least` and leads reviewed every one well: the evidence for a personal alone limit."""
    rows = _evidence_rows(session, since=since, tiers=[Tier.PEER], at_least=at_least, per_person=True)
    return [(person, evidence) for person, evidence in rows if person is not None]


def _evidence_rows(
    session: Session, *, since: datetime, tiers: list[Tier], at_least: int, per_person: bool = False
) -> list[tuple[str | None, Evidence]]:
    """The evidence of each remedy and tier (and proposer, `per_person`: only where leads reviewed
    every one well) with at least `at_least` granted decisions since `since`, in that order.
    One query: the window's decisions are numbered by amount within their group, and only the
    median's and the covering amount's rows come back, with the group's counts beside them.
    (Asked for the n-th amount of each group apart, the planner read every proposal of the
    remedy by its index rather than the window's decisions: a second of every digest.)"""
    names = ["proposer", "remedy_id", "tier"] if per_person else ["remedy_id", "tier"]
    group: list[Any] = [Proposal.proposer, Proposal.remedy_id, Decision.tier][-len(names) :]
    where = [Decision.granted_at > since, Decision.tier.in_(tiers)]
    if per_person:
        where.append(Proposal.proposer.is_not(None))
    talk = case((Decision.review_outcome == ReviewOutcome.TALK, 1), else_=0)
    numbered = (
        select(
            *(c.label(name) for c, name in zip(group, names, strict=True)),
            Proposal.amount.label("amount"),
            func.row_number().over(partition_by=group, order_by=Proposal.amount).label("place"),
            func.count().over(partition_by=group).label("decisions"),
            func.count(Decision.reviewed_at).over(partition_by=group).label("reviewed"),
            func.sum(talk).over(partition_by=group).label("talks"),
        )
        .select_from(Decision)
        .join(Proposal, Proposal.id == Decision.proposal_id)
        .where(*where)
        .subquery()
    )
    n = numbered.c.decisions
    enough = [n >= at_least]
    if per_person:
        enough += [numbered.c.reviewed == n, numbered.c.talks == 0]
    # Places count from 1: the median is the lower middle one; the covering amount the first
    # that, with those below it, makes COVERING of them (integer arithmetic: the same on both).
    share = Fraction(str(COVERING))
    median_place = ((n - 1) // 2 + 1).label("median_place")
    covering_place = ((n * share.numerator + share.denominator - 1) // share.denominator).label("covering_place")
    rows = session.execute(
        select(numbered, median_place, covering_place)
        .where(*enough, (numbered.c.place == median_place) | (numbered.c.place == covering_place))
        .order_by(*(numbered.c[name] for name in names), numbered.c.place)
    ).all()
    found: dict[tuple[str | None, str, str], Evidence] = {}
    for row in rows:
        person = row.proposer if per_person else None
        key = (person, row.remedy_id, row.tier)
        decisions = int(row.decisions)
        evidence = found.get(key) or Evidence(
            remedy_id=row.remedy_id,
            tier=Tier(row.tier),
            decisions=decisions,
            reviewed=int(row.reviewed),
            talk=int(row.talks or 0),
            median=Decimal(0),
            covering=Decimal(0),
        )
        if row.place == row.median_place:
            evidence = replace(evidence, median=row.amount)
        if row.place == row.covering_place:
            evidence = replace(evidence, covering=row.amount)
        found[key] = evidence
    return [(person, evidence) for (person, _, _), evidence in found.items()]
