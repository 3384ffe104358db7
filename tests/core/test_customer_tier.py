"""The customer's own tier: below alone, rising tier by tier, and only for a customer's own ask."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.core.authority import Roster, eligible, may_take_up, refusal
from bot.core.limits import LimitRefused, with_limits
from bot.core.policy import FUNNEL, Remedy, Tier
from bot.policy_file import PolicyError, parse_policy
from tests.policies import TEAM_POLICY

D = Decimal
REMEDY = Remedy(
    id="late_fee",
    label="Waive a late fee",
    customer_up_to=D(15),
    alone_up_to=D(20),
    peer_up_to=D(100),
    lead_up_to=D(300),
)


def test_the_funnel_starts_with_the_customer() -> None:
    assert FUNNEL == (Tier.CUSTOMER, Tier.ALONE, Tier.PEER, Tier.LEAD)


@pytest.mark.parametrize(
    ("amount", "already", "by_customer", "tier"),
    [
        ("15", "0", True, Tier.CUSTOMER),
        ("15.01", "0", True, Tier.ALONE),
        ("10", "6", True, Tier.ALONE),  # a limit can't be split across asks
        ("15", "0", False, Tier.ALONE),  # an agent's proposal never lands in the customer's tier
        ("100", "0", True, Tier.PEER),
        ("300", "0", True, Tier.LEAD),
        ("300.01", "0", True, Tier.OUT_OF_POLICY),
    ],
)
def test_tier_for(amount: str, already: str, by_customer: bool, tier: Tier) -> None:
    assert REMEDY.tier_for(Decimal(amount), already=Decimal(already), by_customer=by_customer) is tier


def test_a_remedy_without_it_sends_every_customer_to_an_agent() -> None:
    plain = Remedy.model_validate({"id": "refund", "label": "Refund", "alone_up_to": 50, "peer_up_to": 150})
    assert plain.tier_for(Decimal(1), by_customer=True) is Tier.ALONE
    assert plain.limit(Tier.CUSTOMER) == 0


@pytest.mark.parametrize(("customer", "ok"), [("20", False), ("25", False), ("19.99", True)])
def test_it_sits_below_alone(customer: str, ok: bool) -> None:
    text = TEAM_POLICY.replace("    alone_up_to: 20\n", f"    customer_up_to: {customer}\n    alone_up_to: 20\n")
    if ok:
        parse_policy(text, source="p.yml")
        return
    with pytest.raises(PolicyError) as error:
        parse_policy(text, source="p.yml")
    message = str(error.value)
    assert "alone_up_to (20) must be above customer_up_to" in message
    assert "\n" not in message.strip()


def test_a_lead_may_set_it_where_it_still_rises() -> None:
    assert with_limits(REMEDY, {Tier.CUSTOMER: Decimal(18)}).customer_up_to == 18
    with pytest.raises(LimitRefused):
        with_limits(REMEDY, {Tier.CUSTOMER: Decimal(25)})


def test_anyone_who_may_propose_may_take_up_a_customer_request() -> None:
    roster = Roster(agents=("U0ANA",), leads=("U0LEE",), bot_user="U0BOT")
    assert may_take_up(roster, "U0ANA") is None
    assert may_take_up(roster, "U0LEE") is None
    assert may_take_up(roster, "U0BOT") is not None
    assert may_take_up(roster, "U0NOBODY") is not None
    assert eligible(Tier.LEAD, roster, None) == ("U0ANA", "U0LEE")
    assert refusal(Tier.PEER, roster, None, "U0ANA") is not None  # take it up first
