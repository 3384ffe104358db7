"""Limits that grow with trust, through the real endpoint: a suggestion appears from review
evidence, Raise moves the tier the next proposal gets (on every instance), leads set, list and
reset limits by hand, and Not now sets a suggestion aside."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import jobs
from bot.standin import StandInSlack
from tests.e2e.support import Bot, instances
from tests.e2e.test_process import run_cli
from tests.e2e.test_review_usage_home import MONDAY_9, blocks_text, report
from tests.policies import TEAM_POLICY

# Three clean decisions are evidence enough here; the default is twenty.
TRUST_POLICY = TEAM_POLICY + "trust: {window: 30d, min_decisions: 3, min_reviewed: 0.8, max_talk: 0.05}\n"
GRANTED = "Granted — go ahead"
SUGGESTION = (
    "*Waive a late fee*: 3 decisions with a peer in 30 days, 3 reviewed *Looks good*, none *Let's talk*, "
    "median $35. Raise what an agent may grant alone from $20 to $40?"
)


@pytest.fixture
def pair(slack: StandInSlack, database_url: str, tmp_path: Path, bot: Bot) -> Iterator[tuple[Bot, Bot]]:
    """Two instances of Leeway with the trust policy on one database (`bot` cleans up after)."""
    bot.leeway.sender.stop()  # the posts are rendered by instances with this test's policy
    with instances(slack, database_url, tmp_path, policy=TRUST_POLICY, clock=bot.clock) as (one, two):
        yield one, two


def agreed_and_reviewed(bot: Bot, amounts: list[int]) -> None:
    """Ana proposes late-fee waivers above her alone limit, Ben agrees, Lee reviews them well."""
    for number, amount in enumerate(amounts, start=1):
        reply = bot.driver.command("U0ANA", f"late_fee {amount} #{700 + number} fee after the outage")
        assert "needs a peer" in reply.json["text"]
        request = bot.request_message(count=number)
        bot.driver.click_button("U0BEN", channel="C0REQ", ts=request["ts"], action_id="approve")
        granted = bot.wait_for_status("granted")
        bot.driver.click("U0LEE", action_id="review_looks_good", value=str(granted.id), channel="C0GENERAL")
    bot.api.wait_for("chat.postEphemeral", user="U0LEE", count=len(amounts))


def ephemeral_to(bot: Bot, user: str, count: int) -> str:
    return str(bot.api.wait_for("chat.postEphemeral", user=user, count=count)[-1].args["text"])


def test_raise_from_evidence_moves_the_next_proposals_tier_on_every_instance(pair: tuple[Bot, Bot]) -> None:
    one, two = pair
    assert "No limit is ready to move yet" in report(one, "U0LEE", "trust")["text"]
    agreed_and_reviewed(one, [30, 35, 38])
    assert "Only leads can change limits" in report(one, "U0BEN", "trust")["text"]
    suggested = report(one, "U0LEE", "trust")
    assert SUGGESTION in suggested["text"]
    assert "Raise" in blocks_text(suggested)
    assert "Not now" in blocks_text(suggested)

    # The button names the limit only; an agent's click changes nothing.
    one.driver.click("U0BEN", action_id="trust_raise", value="late_fee:alone", channel="C0GENERAL")
    assert "Only leads can change limits" in ephemeral_to(one, "U0BEN", 1)
    assert "needs a peer" in two.driver.command("U0CHO", "late_fee 39 #801 before the raise").json["text"]

    one.driver.click("U0LEE", action_id="trust_raise", value="late_fee:alone", channel="C0GENERAL")
    done = ephemeral_to(one, "U0LEE", 4)
    assert "Done." in done
    assert "$20 → $40" in done
    assert "raised from the evidence by <@U0LEE>" in done
    record = one.api.wait_for("chat.postMessage", channel="C0DEC", count=4)[-1].args["text"]
    assert "what an agent may grant alone $20 → $40" in record
    assert "Evidence: 3 decisions with a peer, 3 reviewed, none needing a talk, median $35." in record
    kudos = one.api.wait_for("chat.postMessage", channel="C0KUD", count=4)[-1].args["text"]
    assert "*Waive a late fee* up to $40 is now yours to decide alone" in kudos

    # The other instance applies it at its next request; so does this one.
    assert GRANTED in two.driver.command("U0CHO", "late_fee 39 #802 outage fee").json["text"]
    assert GRANTED in one.driver.command("U0DAN", "late_fee 40 #803 outage fee").json["text"]
    assert "needs a peer" in one.driver.command("U0DAN", "late_fee 41 #804 outage fee").json["text"]
    assert "up to $40" in blocks_text(two.driver.command("U0CHO", "limits").json)
    # Evidence that has been acted on suggests nothing more.
    assert "No limit is ready to move yet" in report(two, "U0LIZ", "trust")["text"]


def test_leads_set_list_and_reset_limits_by_hand(pair: tuple[Bot, Bot]) -> None:
    one, two = pair
    assert "Only leads can change limits" in one.driver.command("U0ANA", "limits set late_fee alone 40").json["text"]
    refused = one.driver.command("U0LEE", "limits set late_fee alone 150").json["text"]
    assert "out of order" in refused
    assert "must rise tier by tier" in refused
    assert "isn't a tier" in one.driver.command("U0LEE", "limits set late_fee boss 40").json["text"]
    assert "Done." in one.driver.command("U0LEE", "limits set late_fee peer 120").json["text"]
    assert "Done." in one.driver.command("U0LIZ", "limits set late_fee alone 30").json["text"]
    assert GRANTED in two.driver.command("U0ANA", "late_fee 30 #901 set by hand").json["text"]

    history = two.driver.command("U0LEE", "limits history").json["text"]
    assert history.index("$20 → $30, set by <@U0LIZ>") < history.index("$100 → $120, set by <@U0LEE>")
    # Raising by hand is celebrated too; a record of each change is kept in the decisions channel.
    # Two changes and the grant of #901.
    records = [c.args["text"] for c in one.api.wait_for("chat.postMessage", channel="C0DEC", count=3)]
    assert sum("set by" in r for r in records) == 2
    # Either instance's sender may post first.
    celebrations = " ".join(c.args["text"] for c in one.api.wait_for("chat.postMessage", channel="C0KUD", count=3))
    assert "*Waive a late fee* up to $120 now needs only two of you to agree" in celebrations
    assert "*Waive a late fee* up to $30 is now yours to decide alone" in celebrations

    assert "back to the policy file's" in one.driver.command("U0LEE", "limits reset late_fee").json["text"]
    assert "needs a peer" in two.driver.command("U0ANA", "late_fee 30 #902 after the reset").json["text"]
    assert "reset by <@U0LEE>" in two.driver.command("U0LEE", "limits history").json["text"]


def test_not_now_sets_a_suggestion_aside_until_the_evidence_grows(pair: tuple[Bot, Bot]) -> None:
    one, _ = pair
    agreed_and_reviewed(one, [30, 35, 38])
    assert SUGGESTION in report(one, "U0LEE", "trust")["text"]
    one.driver.click("U0LIZ", action_id="trust_not_now", value="late_fee:alone", channel="C0GENERAL")
    assert "Not now, then" in ephemeral_to(one, "U0LIZ", 1)
    after = report(one, "U0LEE", "trust")["text"]
    assert SUGGESTION not in after
    assert "for <@U0ANA>" in after  # Ana's own clean record can still be offered to her
    # A forged value changes nothing: a tier Leeway doesn't know is ignored, a remedy without
    # evidence has nothing to raise.
    one.driver.click("U0LEE", action_id="trust_raise", value="late_fee:boss", channel="C0GENERAL")
    one.driver.click("U0LEE", action_id="trust_raise", value="nothing:alone", channel="C0GENERAL")
    assert "no longer supports" in ephemeral_to(one, "U0LEE", 4)
    one.settle()
    assert not [p for p in one.posts_to("C0KUD") if "now yours" in p["text"]]


def test_check_policy_shows_the_limits_in_force(pair: tuple[Bot, Bot], database_url: str, tmp_path: Path) -> None:
    one, _ = pair
    assert "Done." in one.driver.command("U0LEE", "limits set late_fee alone 30").json["text"]
    (tmp_path / "policy.yml").write_text(TRUST_POLICY)
    checked = run_cli(
        "check-policy",
        str(tmp_path / "policy.yml"),
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stderr
    assert (
        "late_fee: on your own up to $30 (changed by a lead; the file says $20), with a peer up to $100"
        in checked.stdout
    )
    assert "refund: on your own up to $50, with a peer up to $150, with a lead up to $500" in checked.stdout


def test_suggestions_reach_leads_on_their_home_and_in_the_weekly_digest(pair: tuple[Bot, Bot]) -> None:
    one, two = pair
    agreed_and_reviewed(one, [30, 35, 38])
    # Every instance reads the evidence with its own job, and either one's sender may render a Home.
    for instance in (one, two):
        assert jobs.ready_to_move(instance.leeway.ctx) == 2  # the team's raise and Ana's own
    two.driver.event({"type": "app_home_opened", "user": "U0LIZ", "channel": "D0LIZ", "tab": "home"})
    two.api.wait_for("views.publish", user_id="U0LIZ")
    home = blocks_text(two.api.home_view("U0LIZ") or {})
    assert "Ready to move down the funnel" in home
    assert SUGGESTION in home
    assert "trust_raise" in home
    two.driver.event({"type": "app_home_opened", "user": "U0BEN", "channel": "D0BEN", "tab": "home"})
    two.api.wait_for("views.publish", user_id="U0BEN")
    assert "Ready to move" not in blocks_text(two.api.home_view("U0BEN") or {})  # leads only

    one.clock.advance(seconds=(MONDAY_9 - one.clock()).total_seconds())
    assert jobs.weekly(one.leeway.ctx) == 3
    for lead in ("U0LEE", "U0LIZ"):
        one.api.wait_for("chat.postMessage", channel=lead)
        (digest,) = [p for p in one.posts_to(lead) if "weekly Leeway digest" in p["text"]]
        assert SUGGESTION in blocks_text(digest)
        assert "trust_not_now" in blocks_text(digest)
    one.api.wait_for("chat.postMessage", channel="C0KUD", count=4)  # three celebrations, then the week's
    assert all("Ready to move" not in json.dumps(p) for p in one.posts_to("U0ANA") + one.posts_to("C0KUD"))


def test_a_lead_offers_one_agent_a_personal_limit_their_evidence_supports(pair: tuple[Bot, Bot]) -> None:
    one, two = pair
    agreed_and_reviewed(one, [30, 35, 38])
    personal = (
        "*Waive a late fee* for <@U0ANA>: 3 decisions with a peer in 30 days, every one reviewed *Looks good*, "
        "median $35. Offer them a personal limit to grant alone up to $40 (now $20)?"
    )
    offered = report(one, "U0LEE", "trust")
    assert personal in offered["text"]
    assert "trust_offer" in blocks_text(offered)

    one.driver.click("U0BEN", action_id="trust_offer", value="late_fee:U0BEN", channel="C0GENERAL")
    assert "Only leads can change limits" in ephemeral_to(one, "U0BEN", 1)
    one.driver.click("U0LEE", action_id="trust_offer", value="late_fee:U0ANA", channel="C0GENERAL")
    assert "<@U0ANA>'s own limit to grant alone $20 → $40, offered by <@U0LEE>" in ephemeral_to(one, "U0LEE", 4)
    (note,) = [
        c.args["text"]
        for c in one.api.wait_for("chat.postMessage", channel="U0ANA", count=4)
        if "personal limit" in c.args["text"]
    ]
    assert "<@U0LEE> offered you a personal limit: *Waive a late fee* up to $40 is yours to decide alone" in note

    # Hers alone, on every instance; the team's limit stands for everyone else.
    assert GRANTED in two.driver.command("U0ANA", "late_fee 39 #811 outage fee").json["text"]
    assert "needs a peer" in two.driver.command("U0BEN", "late_fee 39 #812 outage fee").json["text"]
    assert "up to $40" in blocks_text(two.driver.command("U0ANA", "limits").json)
    assert "up to $40" not in blocks_text(two.driver.command("U0BEN", "limits").json)
    # Shown only to her and to leads: never in a channel.
    one.settle()
    for channel in ("C0REQ", "C0DEC", "C0KUD"):
        assert all("personal" not in json.dumps(p) and "own limit" not in json.dumps(p) for p in one.posts_to(channel))
    assert "<@U0ANA>'s own limit" in two.driver.command("U0LIZ", "limits history").json["text"]
