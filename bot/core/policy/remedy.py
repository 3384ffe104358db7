"""A remedy: its limits, tier by tier, its alone budget, and what to tell the customer."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import Field, field_validator, model_validator

from bot.core.policy.fields import Limit, _Frozen
from bot.core.policy.tiers import FUNNEL, GRANTING_TIERS, Tier

_REMEDY_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")  # a line break is fine; other control characters are not
TELL_CUSTOMER_LIMIT = 500


class BudgetPeriod(StrEnum):
    DAY = "day"
    WEEK = "week"  # Monday to Sunday, in the policy's time zone
    MONTH = "month"


class AloneBudget(_Frozen):
    """`alone_budget: {amount: 200, per: week}`: the most one agent may grant alone of a remedy in
    a day, week or month. Past it a proposal is not refused: it goes to a peer."""

    amount: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
    per: BudgetPeriod


class Remedy(_Frozen):
    id: str
    label: str = Field(min_length=1, max_length=75)
    unit: str | None = None  # None: the policy's currency; "days": a number of days
    # The most a customer may get by asking the product themselves (0: they always ask an agent).
    customer_up_to: Limit = Decimal(0)
    alone_up_to: Limit = Decimal(0)
    peer_up_to: Limit = Decimal(0)
    lead_up_to: Limit = Decimal(0)
    # What the agent tells the customer once it is granted ("The refund goes back to the original
    # payment method within 5 business days"), so the promise made is the right one.
    tell_customer: str | None = None
    alone_budget: AloneBudget | None = None

    @field_validator("id")
    @classmethod
    def _id_is_a_slug(cls, value: str) -> str:
        if not _REMEDY_ID.match(value):
            raise ValueError("must be lower-case letters, digits and _ (like late_fee), starting with a letter")
        return value

    @field_validator("tell_customer", mode="before")
    @classmethod
    def _customer_words(cls, value: Any) -> Any:
        if value is None:  # the key written with nothing after it
            raise ValueError("is empty: write what the agent tells the customer, or leave the key out")
        if not isinstance(value, str):
            raise ValueError(
                "write what the agent tells the customer as text, in quotes if it has a colon "
                '(like "The refund goes back to the original payment method within 5 business days")'
            )
        words = value.strip()
        if not words:
            raise ValueError("is empty: write what the agent tells the customer, or leave the key out")
        if len(words) > TELL_CUSTOMER_LIMIT:
            raise ValueError(
                f"is {len(words)} characters; keep it under {TELL_CUSTOMER_LIMIT}: a sentence or two "
                "the agent can pass on"
            )
        if _CONTROL.search(words):
            raise ValueError("has a control character (a tab, say); write plain text")
        return words

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, value: str | None) -> str | None:
        if value is not None and value != "days":
            raise ValueError("the only unit is 'days'; leave it out for amounts of money")
        return value

    @model_validator(mode="after")
    def _limits_rise(self) -> Self:
        named = [("alone_up_to", self.alone_up_to), ("peer_up_to", self.peer_up_to), ("lead_up_to", self.lead_up_to)]
        if not any(value > 0 for _, value in named):
            raise ValueError("at least one of alone_up_to, peer_up_to, lead_up_to must be above 0")
        # The customer's own tier sits at the bottom of the funnel, below every agent's.
        named.insert(0, ("customer_up_to", self.customer_up_to))
        active = [(name, value) for name, value in named if value > 0]
        for (low_name, low), (high_name, high) in itertools.pairwise(active):
            if high <= low:
                raise ValueError(
                    f"limits must rise tier by tier: {high_name} ({high}) must be above "
                    f"{low_name} ({low}); use 0 to skip a tier"
                )
        if self.unit == "days":
            for name, value in active:
                if value != value.to_integral_value():
                    raise ValueError(f"{name} must be a whole number of days")
        if self.alone_budget is not None:
            if self.alone_up_to <= 0 or (self.peer_up_to <= 0 and self.lead_up_to <= 0):
                raise ValueError(
                    "alone_budget needs alone_up_to and a peer_up_to or lead_up_to above it: past the budget "
                    "a peer or a lead agrees"
                )
            if self.unit == "days" and self.alone_budget.amount != self.alone_budget.amount.to_integral_value():
                raise ValueError("alone_budget's amount must be a whole number of days")
        return self

    @property
    def in_days(self) -> bool:
        return self.unit == "days"

    def limit(self, tier: Tier) -> Decimal:
        """The highest amount the tier grants; 0 when the tier is skipped."""
        limits = {
            Tier.CUSTOMER: self.customer_up_to,
            Tier.ALONE: self.alone_up_to,
            Tier.PEER: self.peer_up_to,
            Tier.LEAD: self.lead_up_to,
        }
        return limits.get(tier, Decimal(0))

    def tier_for(self, amount: Decimal, *, already: Decimal = Decimal(0), by_customer: bool = False) -> Tier:
        """The tier of `amount` on a case that `already` has this much of the remedy (granted
        or waiting, within the policy's `case_window`): a limit can't be split across proposals.
        Only a customer asking the product themselves (`by_customer`) can land in their own
        tier; an agent's proposal starts at alone."""
        total = already + amount
        for tier in FUNNEL if by_customer else GRANTING_TIERS:
            limit = self.limit(tier)
            if limit > 0 and total <= limit:
                return tier
        return Tier.OUT_OF_POLICY

    def tier_above_alone(self, amount: Decimal, *, already: Decimal = Decimal(0)) -> Tier:
        """The tier that decides `amount` when the agent may not grant it alone (their budget
        for it is spent): the next one up that covers it."""
        total = already + amount
        for tier in (Tier.PEER, Tier.LEAD):
            limit = self.limit(tier)
            if limit > 0 and total <= limit:
                return tier
        return Tier.OUT_OF_POLICY

    @property
    def highest_limit(self) -> Decimal:
        return max(self.alone_up_to, self.peer_up_to, self.lead_up_to)


@dataclass(frozen=True)
class CaseSoFar:
    """What one case already has of one remedy within the policy's `case_window`: granted, and
    asked for and still waiting for an answer."""

    granted: Decimal = Decimal(0)
    waiting: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return self.granted + self.waiting
