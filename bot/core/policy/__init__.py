"""The authority funnel: which tier a remedy of a given amount needs.

Limits are data (loaded from the policy file at the edge); this package only validates them and
answers questions about them: `tiers`, `remedy` (a remedy's limits, tier by tier), `specs` (the
policy's other parts), `fields` (what the models are made of), and `Policy` here."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Self
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator

from bot.core.links import check_template
from bot.core.policy.fields import Duration, DurationOrOff, Limit, Share, Switch, _Frozen
from bot.core.policy.remedy import TELL_CUSTOMER_LIMIT, AloneBudget, BudgetPeriod, CaseSoFar, Remedy
from bot.core.policy.specs import Channels, DigestSpec, People, TrustSpec, Webhook, WorkingHoursSpec
from bot.core.policy.tiers import CURRENCY_SYMBOLS, FUNNEL, GRANTING_TIERS, TIER_WORDS, Tier, format_amount
from bot.core.timing import WorkingHours, zone

# Reminding someone of their authority more often than daily would be pestering, not a nudge.
SHORTEST_NUDGE_AFTER = timedelta(days=1)


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
    # Where a case lives in the team's helpdesk ({case}, {case_number}): every message that
    # names a case links it there.
    case_url: str | None = None

    @field_validator("case_url")
    @classmethod
    def _case_url(cls, value: str | None) -> str | None:
        return check_template(value) if value is not None else None

    # Company systems told of decisions, limit changes and outcomes (see bot.services.webhooks).
    webhooks: tuple[Webhook, ...] = ()

    @field_validator("nudge_after")
    @classmethod
    def _not_pestering(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < SHORTEST_NUDGE_AFTER:
            raise ValueError("must be at least 1d: a nudge is a gentle reminder, not an alarm; or off")
        return value

    @field_validator("webhooks")
    @classmethod
    def _one_entry_per_url(cls, webhooks: tuple[Webhook, ...]) -> tuple[Webhook, ...]:
        urls = [webhook.url for webhook in webhooks]
        for url in urls:
            if urls.count(url) > 1:
                raise ValueError(f"{url} is listed twice: give it one entry with all its events")
        return webhooks

    def webhook(self, key: str) -> Webhook | None:
        """The endpoint an outbox row names by its key."""
        return next((w for w in self.webhooks if w.key == key), None)

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


__all__ = [
    "CURRENCY_SYMBOLS",
    "FUNNEL",
    "GRANTING_TIERS",
    "SHORTEST_NUDGE_AFTER",
    "TELL_CUSTOMER_LIMIT",
    "TIER_WORDS",
    "AloneBudget",
    "BudgetPeriod",
    "CaseSoFar",
    "Channels",
    "DigestSpec",
    "Duration",
    "DurationOrOff",
    "Limit",
    "People",
    "Policy",
    "Remedy",
    "Share",
    "Switch",
    "Tier",
    "TrustSpec",
    "Webhook",
    "WorkingHoursSpec",
    "format_amount",
]
