"""Limits changed by leads, on top of the policy file: the file stays the base of record and is
never rewritten; the database holds each change, and the effective policy is the two together."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from decimal import Decimal

from pydantic import ValidationError

from bot.core.policy import FUNNEL, Policy, Remedy, Tier

LIMIT_FIELDS: dict[Tier, str] = {
    Tier.CUSTOMER: "customer_up_to",
    Tier.ALONE: "alone_up_to",
    Tier.PEER: "peer_up_to",
    Tier.LEAD: "lead_up_to",
}

# (remedy id, tier) → the limit a lead set for the team
Overrides = Mapping[tuple[str, Tier], Decimal]
# (person, remedy id) → the alone limit a lead offered that one agent
PersonalLimits = Mapping[tuple[str, str], Decimal]


class LimitRefused(ValueError):
    """A change that would leave the limits of a remedy not rising tier by tier."""


def with_limits(remedy: Remedy, changes: Mapping[Tier, Decimal]) -> Remedy:
    """The remedy with these limits changed, validated as the policy file is; LimitRefused says
    why not."""
    if not changes:
        return remedy
    values = remedy.model_dump(exclude_none=True)  # None is each optional key left out
    for tier, amount in changes.items():
        if tier not in LIMIT_FIELDS:
            raise LimitRefused(f"only the {', '.join(t.value for t in FUNNEL)} limits can be set")
        values[LIMIT_FIELDS[tier]] = amount
    try:
        return Remedy.model_validate(values)
    except ValidationError as error:
        reason = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        raise LimitRefused(reason) from None


def effective(policy: Policy, overrides: Overrides) -> Policy:
    """The policy with the leads' changes applied. Each change was checked when it was made; if
    the file's limits have moved since so that a remedy's changes no longer rise tier by tier,
    that remedy keeps the file's limits rather than break every proposal (`check-policy` shows
    what applies)."""
    if not overrides:
        return policy
    remedies = []
    for remedy in policy.remedies:
        changes = {tier: amount for (remedy_id, tier), amount in overrides.items() if remedy_id == remedy.id}
        try:
            remedies.append(with_limits(remedy, changes))
        except LimitRefused:
            remedies.append(remedy)
    return policy.model_copy(update={"remedies": tuple(remedies)})


def for_person(policy: Policy, person: str, personal: PersonalLimits) -> Policy:
    """The policy as it applies to one agent: the team's, with any alone limit a lead offered
    them above it (one that no longer fits below the next tier is left out)."""
    mine = {remedy_id: amount for (who, remedy_id), amount in personal.items() if who == person}
    if not mine:
        return policy
    remedies = []
    for remedy in policy.remedies:
        amount = mine.get(remedy.id)
        if amount is not None and amount > remedy.alone_up_to:
            with contextlib.suppress(LimitRefused):
                remedy = with_limits(remedy, {Tier.ALONE: amount})
        remedies.append(remedy)
    return policy.model_copy(update={"remedies": tuple(remedies)})
