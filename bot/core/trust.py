"""Limits that grow with trust: when a tier's decisions of one remedy have been clean, suggest
moving the limit below it up, so the funnel moves down with evidence rather than by decree.

Pure: the evidence is counted elsewhere (in SQL) and handed in."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, Decimal

from bot.core.policy import Remedy, Tier, TrustSpec

# The share of the evidence's decisions a suggested limit covers: most of them, not the outliers.
COVERING = 0.9

# Which limit a tier's clean decisions suggest raising: decisions made with a peer show what an
# agent could grant alone; decisions made with a lead, what two agents could grant together.
RAISES: dict[Tier, Tier] = {Tier.PEER: Tier.ALONE, Tier.LEAD: Tier.PEER}


@dataclass(frozen=True)
class Evidence:
    """Granted decisions of one remedy at one tier within the trust window, as SQL counted them."""

    remedy_id: str
    tier: Tier  # the tier the decisions were made at (peer or lead)
    decisions: int
    reviewed: int
    talk: int  # reviewed "Let's talk"
    median: Decimal  # of the amounts granted
    covering: Decimal  # the amount that covers COVERING of them

    @property
    def looks_good(self) -> int:
        return self.reviewed - self.talk

    @property
    def reviewed_share(self) -> float:
        return self.reviewed / self.decisions if self.decisions else 0.0

    @property
    def talk_share(self) -> float:
        return self.talk / self.reviewed if self.reviewed else 0.0


@dataclass(frozen=True)
class Suggestion:
    """Raise `limit` of a remedy from `current` to `proposed`, on the strength of `evidence`."""

    remedy_id: str
    limit: Tier  # the limit to raise: alone or peer
    current: Decimal
    proposed: Decimal
    evidence: Evidence
    person: str | None = None  # a personal alone limit for this one agent, above the team's


def clean(evidence: Evidence, spec: TrustSpec) -> bool:
    """Enough decisions, enough of them reviewed, and few enough needing a talk."""
    return (
        evidence.decisions >= spec.min_decisions
        and evidence.reviewed_share >= spec.min_reviewed
        and evidence.talk_share <= spec.max_talk
    )


def asked_again(evidence: Evidence, spec: TrustSpec, *, dismissed_at: int | None) -> bool:
    """After "Not now", a remedy is not suggested again until its evidence has grown by another
    `min_decisions` beyond what it was when a lead set it aside."""
    return dismissed_at is None or evidence.decisions >= dismissed_at + spec.min_decisions


def suggest(
    remedy: Remedy, evidence: Evidence, spec: TrustSpec, *, dismissed_at: int | None = None
) -> Suggestion | None:
    """The raise the evidence supports, or None. The proposed limit covers most of the
    decisions (COVERING of them), rounded up to a figure people use, and stays below the next
    tier's limit, so limits still rise tier by tier."""
    limit = RAISES.get(evidence.tier)
    if limit is None or evidence.remedy_id != remedy.id:
        return None
    current = remedy.limit(limit)
    ceiling = remedy.limit(evidence.tier)
    # A tier the policy skips (0) is the policy's choice, not a limit to raise.
    if (
        current <= 0
        or ceiling <= 0
        or not clean(evidence, spec)
        or not asked_again(evidence, spec, dismissed_at=dismissed_at)
    ):
        return None
    step = rounding_step(evidence.covering, in_days=remedy.in_days)
    proposed = round_up(evidence.covering, step)
    if proposed >= ceiling:
        proposed = round_down(ceiling - step, step)
    if proposed <= current:
        return None
    return Suggestion(remedy_id=remedy.id, limit=limit, current=current, proposed=proposed, evidence=evidence)


def suggest_personal(
    remedy: Remedy, person: str, evidence: Evidence, spec: TrustSpec, *, current: Decimal | None = None
) -> Suggestion | None:
    """A personal alone limit above the team's for one agent whose own decisions with a peer
    were all reviewed well (enough of them, every one reviewed, none needing a talk). `current`:
    the alone limit that applies to them now (a personal one already offered), else the team's."""
    if evidence.tier is not Tier.PEER or evidence.remedy_id != remedy.id:
        return None
    spotless = evidence.decisions >= spec.min_decisions and evidence.reviewed == evidence.decisions
    if not spotless or evidence.talk:
        return None
    made = suggest(remedy.model_copy(update={"alone_up_to": current or remedy.alone_up_to}), evidence, spec)
    return replace(made, person=person) if made else None


def rounding_step(amount: Decimal, *, in_days: bool) -> Decimal:
    """Figures people use: whole days; $5 steps under $100, $10 under $500, then $50."""
    if in_days or amount <= 10:
        return Decimal(1)
    if amount <= 100:
        return Decimal(5)
    if amount <= 500:
        return Decimal(10)
    return Decimal(50)


def round_up(amount: Decimal, step: Decimal) -> Decimal:
    return (amount / step).to_integral_value(rounding=ROUND_CEILING) * step


def round_down(amount: Decimal, step: Decimal) -> Decimal:
    return (amount // step) * step
