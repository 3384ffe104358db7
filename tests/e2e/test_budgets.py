"""An alone budget keeps growing authority safe: past it a proposal goes to a peer, kindly, and
simultaneous proposals can't overspend it."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from bot.core.lifecycle import Status
from bot.core.policy import Tier
from bot.standin import StandInSlack
from tests.e2e.support import Bot, instances
from tests.e2e.test_case_limits import GRANTED, all_at_once, propose
from tests.e2e.test_review_usage_home import blocks_text
from tests.policies import TEAM_POLICY

LATE_FEE = "    alone_up_to: 20\n    peer_up_to: 100\n"
assert LATE_FEE in TEAM_POLICY
BUDGET_POLICY = TEAM_POLICY.replace(LATE_FEE, LATE_FEE + "    alone_budget: {amount: 40, per: week}\n")


@pytest.fixture
def pair(slack: StandInSlack, database_url: str, tmp_path: Path, bot: Bot) -> Iterator[tuple[Bot, Bot]]:
    """Two instances of Leeway with the budget policy on one database (`bot` cleans up after)."""
    bot.leeway.sender.stop()  # the posts are rendered by instances with this test's policy
    with instances(slack, database_url, tmp_path, policy=BUDGET_POLICY, clock=bot.clock) as (one, two):
        yield one, two


def test_past_the_budget_a_peer_agrees_and_the_agent_is_told_why(pair: tuple[Bot, Bot]) -> None:
    one, two = pair
    assert GRANTED in propose(one, "late_fee 20 #501 outage fee")
    assert GRANTED in propose(two, "late_fee 15 #502 outage fee")
    reply = propose(one, "late_fee 10 #503 outage fee")
    assert "needs a peer's agreement" in reply
    assert "You've used $35 of your $40 this week on your own, so a peer will agree in a moment" in reply
    assert one.proposals()[-1].tier == Tier.PEER
    # Someone else's budget is their own.
    assert GRANTED in propose(two, "late_fee 20 #504 outage fee", user="U0BEN")
    # What is left shows in /remedy limits and on the Home tab.
    limits = blocks_text(one.driver.command("U0ANA", "limits").json)
    assert "On your own, up to $40 a week; $5 left this week." in limits
    one.driver.event({"type": "app_home_opened", "user": "U0BEN", "channel": "D0BEN", "tab": "home"})
    one.api.wait_for("views.publish", user_id="U0BEN")
    assert "$20 left this week" in blocks_text(one.api.home_view("U0BEN") or {})
    # A new week, a new budget (the clock starts on a Tuesday).
    one.clock.advance(days=6)
    assert GRANTED in propose(two, "late_fee 20 #505 next week")


def test_simultaneous_proposals_cannot_overspend_the_budget(pair: tuple[Bot, Bot]) -> None:
    one, two = pair
    replies = all_at_once(
        [
            (instance, "U0CHO", f"late_fee 15 #6{n}{i} together")
            for n, instance in enumerate((one, two))
            for i in range(3)
        ]
    )
    assert len(replies) == 6
    # $15 fits twice in $40; a third would be $45.
    assert sum(GRANTED in reply for reply in replies) == 2, replies
    alone = [p for p in one.proposals() if p.status == Status.GRANTED and p.tier == Tier.ALONE]
    assert sum(p.amount for p in alone) == Decimal(30)
    assert sum("You've used $30 of your $40 this week" in reply for reply in replies) == 4, replies
