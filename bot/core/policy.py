"""The authority funnel: which tier a remedy of a given amount needs.

Limits are data (loaded from the policy file at the edge); this module only
validates them and answers questions about them.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from bot.core.timing import DAY_NAMES, WorkingHours, parse_clock, parse_days, parse_duration, zone


class Tier(StrEnum):
    ALONE = "alone"
    PEER = "peer"
    LEAD = "lead"
    OUT_OF_POLICY = "out_of_policy"


# Display order of the tiers that grant something.
GRANTING_TIERS: tuple[Tier, ...] = (Tier.ALONE, Tier.PEER, Tier.LEAD)

TIER_WORDS: dict[Tier, str] = {
    Tier.ALONE: "on your own",
    Tier.PEER: "with a peer",
    Tier.LEAD: "with a lead",
    Tier.OUT_OF_POLICY: "out of policy",
}

CURRENCY_SYMBOLS: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}

_SLACK_USER_OR_GROUP = re.compile(r"^[UWS][A-Z0-9]{2,}$")
_SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
_REMEDY_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")  # a line break is fine; other control characters are not
TELL_CUSTOMER_LIMIT = 500
# Reminding someone of their authority more often than daily would be pestering, not a nudge.
SHORTEST_NUDGE_AFTER = timedelta(days=1)

Limit = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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
        active = [(name, value) for name, value in named if value > 0]
        if not active:
            raise ValueError("at least one of alone_up_to, peer_up_to, lead_up_to must be above 0")
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
        return {Tier.ALONE: self.alone_up_to, Tier.PEER: self.peer_up_to, Tier.LEAD: self.lead_up_to}.get(
            tier, Decimal(0)
        )

    def tier_for(self, amount: Decimal, *, already: Decimal = Decimal(0)) -> Tier:
        """The tier of `amount` on a case that `already` has this much of the remedy (granted
        or waiting, within the policy's `case_window`): a limit can't be split across proposals."""
        total = already + amount
        for tier in GRANTING_TIERS:
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


class Channels(_Frozen):
    requests: str
    decisions: str
    kudos: str

    @field_validator("requests", "decisions", "kudos")
    @classmethod
    def _channel_id(cls, value: str) -> str:
        if not _SLACK_CHANNEL.match(value):
            raise ValueError(
                f"{value!r} is not a channel ID (like C0123ABCD; in Slack: channel details → About → Channel ID)"
            )
        return value


class People(_Frozen):
    agents: tuple[str, ...] = Field(min_length=1)
    leads: tuple[str, ...] = Field(min_length=1)

    @field_validator("agents", "leads")
    @classmethod
    def _people_ids(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not _SLACK_USER_OR_GROUP.match(value):
                raise ValueError(f"{value!r} is not a user ID (U…) or user-group ID (S…)")
        if len(set(values)) != len(values):
            raise ValueError("lists someone twice")
        return values


def _duration(value: Any) -> timedelta:
    return value if isinstance(value, timedelta) else parse_duration(str(value))


Duration = Annotated[timedelta, BeforeValidator(_duration)]


def _switch(value: Any) -> Any:
    """`on` / `off`: YAML reads them as booleans already; written in quotes they are words."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("on", "off"):
        return value.strip().lower() == "on"
    raise ValueError(f"{value!r}: write on or off")


Switch = Annotated[bool, BeforeValidator(_switch)]


def _duration_or_off(value: Any) -> Any:
    if value is False or (isinstance(value, str) and value.strip().lower() == "off"):
        return None
    if value is True or value is None:
        raise ValueError(f"{value!r}: write a duration like 14d, or off")
    return _duration(value)


DurationOrOff = Annotated[timedelta | None, BeforeValidator(_duration_or_off)]


class WorkingHoursSpec(_Frozen):
    """`{tz: Europe/Warsaw, days: mon-fri, from: "09:00", to: "18:00"}`"""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    tz: str
    days: str = "mon-fri"
    opens: str = Field(alias="from")
    closes: str = Field(alias="to")

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        parse_days(value)
        return value

    @field_validator("opens", "closes", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        parse_clock(value)
        return value

    @model_validator(mode="after")
    def _order(self) -> Self:
        if parse_clock(self.closes) <= parse_clock(self.opens):
            raise ValueError(f"to ({self.closes}) must be later than from ({self.opens})")
        return self

    @property
    def hours(self) -> WorkingHours:
        return WorkingHours(
            tz=zone(self.tz), days=parse_days(self.days), opens=parse_clock(self.opens), closes=parse_clock(self.closes)
        )


class DigestSpec(_Frozen):
    """When leads get the weekly digest and the team its celebration: `{day: mon, at: "09:00"}`."""

    day: str = "mon"
    at: str = "09:00"

    @field_validator("day")
    @classmethod
    def _day(cls, value: str) -> str:
        if value.lower() not in DAY_NAMES:
            raise ValueError(f"{value!r}: use one of {', '.join(DAY_NAMES)}")
        return value.lower()

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, value: Any) -> Any:
        parse_clock(value)
        return value


Share = Annotated[float, Field(ge=0, le=1)]


class TrustSpec(_Frozen):
    """`trust:`: the evidence a suggestion to raise a limit needs (see core.trust)."""

    window: Duration = timedelta(days=30)  # the decisions looked at
    min_decisions: int = Field(default=20, ge=1)  # granted decisions of one remedy at one tier
    min_reviewed: Share = 0.8  # the share of them leads reviewed
    max_talk: Share = 0.05  # the share of the reviewed ones marked "Let's talk" may not exceed this


class Policy(_Frozen):
    currency: str = "USD"
    channels: Channels
    people: People
    remedies: tuple[Remedy, ...] = Field(min_length=1)
    reroute_after: Duration = timedelta(minutes=10)  # no answer by then: offer it to the next person
    expire_after: Duration = timedelta(hours=4)  # no answer by then: it expires, nothing granted
    # What a case had of a remedy this recently counts toward the tier of its next proposal.
    case_window: Duration = timedelta(days=30)
    working_hours: WorkingHoursSpec | None = None
    timezone: str = "UTC"  # for the digest when there are no working hours (which carry their own tz)
    digest: DigestSpec = DigestSpec()
    trust: TrustSpec = TrustSpec()
    # Someone new to the roster gets one private welcome: what they may grant, and how.
    welcome: Switch = True
    # An agent with no proposal of their own for this long gets one private nudge (None: off).
    nudge_after: DurationOrOff = timedelta(days=14)

    @field_validator("nudge_after")
    @classmethod
    def _not_pestering(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < SHORTEST_NUDGE_AFTER:
            raise ValueError("must be at least 1d: a nudge is a gentle reminder, not an alarm; or off")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        zone(value)
        return value

    @model_validator(mode="after")
    def _expiry_after_reroute(self) -> Self:
        if self.expire_after <= self.reroute_after:
            raise ValueError(
                f"expire_after ({self.expire_after}) must be longer than reroute_after "
                f"({self.reroute_after}), or no request would ever be re-routed"
            )
        return self

    @property
    def hours(self) -> WorkingHours | None:
        return self.working_hours.hours if self.working_hours else None

    @property
    def tz(self) -> ZoneInfo:
        """The policy's time zone: the working hours', else `timezone`."""
        return zone(self.working_hours.tz) if self.working_hours else zone(self.timezone)

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError("must be a three-letter currency code like USD")
        return value

    @field_validator("remedies")
    @classmethod
    def _unique_ids(cls, remedies: tuple[Remedy, ...]) -> tuple[Remedy, ...]:
        seen: set[str] = set()
        for remedy in remedies:
            if remedy.id in seen:
                raise ValueError(f"remedy id {remedy.id!r} is used twice")
            seen.add(remedy.id)
        return remedies

    def remedy(self, remedy_id: str) -> Remedy | None:
        return next((r for r in self.remedies if r.id == remedy_id), None)

    @property
    def currency_symbol(self) -> str:
        return CURRENCY_SYMBOLS.get(self.currency, "")

    def unit_of(self, remedy: Remedy) -> str:
        """What a remedy's amounts count: "days" or the currency code."""
        return "days" if remedy.in_days else self.currency

    def format_amount(self, remedy: Remedy, amount: Decimal) -> str:
        return format_amount(amount, self.unit_of(remedy))


def format_amount(amount: Decimal, unit: str) -> str:
    """`$40`, `$25.50`, `12 EUR`, `7 days`: how amounts read in messages."""
    if unit == "days":
        days = int(amount)
        return f"{days} day" if days == 1 else f"{days} days"
    whole = amount == amount.to_integral_value()
    number = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(unit)
    return f"{symbol}{number}" if symbol else f"{number} {unit}"
