"""A budget that keeps growing authority safe: the most one agent may grant alone of a remedy in
a day, week or month. Pure: periods and words; the spending is one conditional write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.core.policy import AloneBudget, BudgetPeriod


def period_start(now: datetime, per: BudgetPeriod, tz: ZoneInfo) -> date:
    """The first day of the budget's period holding `now`, in the policy's time zone."""
    today = now.astimezone(tz).date()
    if per is BudgetPeriod.WEEK:
        return today - timedelta(days=today.weekday())
    if per is BudgetPeriod.MONTH:
        return today.replace(day=1)
    return today


@dataclass(frozen=True)
class BudgetUse:
    """What one agent has granted alone of a remedy this period, against its budget."""

    used: Decimal
    budget: AloneBudget

    @property
    def left(self) -> Decimal:
        return max(Decimal(0), self.budget.amount - self.used)


PERIOD_WORDS: dict[BudgetPeriod, str] = {
    BudgetPeriod.DAY: "today",
    BudgetPeriod.WEEK: "this week",
    BudgetPeriod.MONTH: "this month",
}
