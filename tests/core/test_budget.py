"""Alone budgets: their periods, what is left, and the tier past them."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.core.budget import BudgetUse, period_start
from bot.core.policy import AloneBudget, BudgetPeriod, Remedy, Tier
from bot.policy_file import PolicyError, parse_policy
from tests.policies import TEAM_POLICY

WARSAW = ZoneInfo("Europe/Warsaw")


UTC_ZONE = ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("now", "per", "tz", "starts"),
    [
        (datetime(2026, 11, 24, 9, 0, tzinfo=UTC), BudgetPeriod.DAY, UTC_ZONE, date(2026, 11, 24)),
        (datetime(2026, 11, 24, 9, 0, tzinfo=UTC), BudgetPeriod.WEEK, UTC_ZONE, date(2026, 11, 23)),  # a Tuesday
        (datetime(2026, 11, 29, 23, 30, tzinfo=UTC), BudgetPeriod.WEEK, UTC_ZONE, date(2026, 11, 23)),  # Sunday
        (datetime(2026, 11, 29, 23, 30, tzinfo=UTC), BudgetPeriod.WEEK, WARSAW, date(2026, 11, 30)),  # Monday there
        (datetime(2026, 11, 30, 23, 30, tzinfo=UTC), BudgetPeriod.MONTH, UTC_ZONE, date(2026, 11, 1)),
        (datetime(2026, 11, 30, 23, 30, tzinfo=UTC), BudgetPeriod.MONTH, WARSAW, date(2026, 12, 1)),
    ],
)
def test_a_budgets_period_is_the_policys_day_week_or_month(
    now: datetime, per: BudgetPeriod, tz: ZoneInfo, starts: date
) -> None:
    assert period_start(now, per, tz) == starts


def test_what_is_left_of_a_budget() -> None:
    use = BudgetUse(used=Decimal(35), budget=AloneBudget(amount=Decimal(40), per=BudgetPeriod.WEEK))
    assert use.left == Decimal(5)
    assert BudgetUse(used=Decimal(45), budget=use.budget).left == Decimal(0)


def test_past_the_budget_the_next_tier_up_decides() -> None:
    meal = Remedy(id="meal", label="Free meal", alone_up_to=Decimal(25), lead_up_to=Decimal(60))
    assert meal.tier_above_alone(Decimal(10)) is Tier.LEAD  # no peer tier: a lead
    refund = Remedy(id="refund", label="Refund", alone_up_to=Decimal(50), peer_up_to=Decimal(150))
    assert refund.tier_above_alone(Decimal(10)) is Tier.PEER
    assert refund.tier_above_alone(Decimal(10), already=Decimal(145)) is Tier.OUT_OF_POLICY


@pytest.mark.parametrize(
    ("budget", "says"),
    [
        ("{amount: 0, per: week}", "greater than 0"),
        ("{amount: 50, per: fortnight}", "'day', 'week' or 'month'"),
        ("{amount: 50}", "per"),
    ],
)
def test_a_budget_written_wrong_says_what_to_fix(budget: str, says: str) -> None:
    late_fee = "    alone_up_to: 20\n    peer_up_to: 100\n"
    text = TEAM_POLICY.replace(late_fee, late_fee + f"    alone_budget: {budget}\n")
    with pytest.raises(PolicyError, match="alone_budget") as raised:
        parse_policy(text, source="policy.yml")
    assert says in str(raised.value)


def test_a_budget_needs_a_tier_above_alone_to_send_proposals_to() -> None:
    text = TEAM_POLICY.replace(
        "    alone_up_to: 20\n    peer_up_to: 100\n    lead_up_to: 300\n",
        "    alone_up_to: 20\n    alone_budget: {amount: 40, per: week}\n",
    )
    with pytest.raises(PolicyError, match="past the budget a peer or a lead agrees"):
        parse_policy(text, source="policy.yml")
