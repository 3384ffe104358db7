"""The remedy loop as people live it: propose → a peer or lead agrees → posted and celebrated."""

from __future__ import annotations

import json
from decimal import Decimal

from bot.core.policy import Tier
from tests.e2e.support import Bot


def test_alone_tier_is_granted_at_once_recorded_posted_and_celebrated(bot: Bot) -> None:
    reply = bot.driver.command("U0ANA", "refund 40 #4711 parcel arrived broken fair:25")

    assert reply.status == 200
    said = reply.json
    assert said.get("response_type", "ephemeral") == "ephemeral"
    assert "Granted — go ahead" in said["text"]
    assert "#4711" in said["text"]

    decision = bot.api.wait_for("chat.postMessage", channel="C0DEC")[0].args
    kudos = bot.api.wait_for("chat.postMessage", channel="C0KUD")[0].args
    assert "<@U0ANA>" in decision["text"]
    assert "$40" in decision["text"]
    assert "#4711" in decision["text"]
    audit = json.dumps(decision["blocks"])
    for fact in ("decided alone", "Time to decision", "instantly", "Customer thought fair", "$25", "alone"):
        assert fact in audit, fact
    assert "own authority" in kudos["text"]
    assert "<@U0ANA>" in kudos["text"]

    proposal = bot.only_proposal()
    assert (proposal.status, proposal.tier, proposal.amount, proposal.customer_fair) == (
        "granted",
        Tier.ALONE,
        Decimal("40.00"),
        Decimal("25.00"),
    )
    assert bot.api.calls_to("chat.postMessage", channel="C0REQ") == []  # no one was asked


def test_peer_agrees_by_reaction(bot: Bot) -> None:
    reply = bot.driver.command("U0ANA", "refund 80 #4712 charged twice")
    assert "I've asked <@U0BEN>" in reply.json["text"]

    request = bot.request_message()
    assert "<@U0BEN>" in request["text"]
    shown = json.dumps(request["blocks"])
    assert "Approve" in shown
    assert "Decline" in shown
    assert "$80" in shown

    bot.driver.react("U0CHO", "white_check_mark", channel="C0REQ", ts=request["ts"])

    update = bot.api.wait_for("chat.update", channel="C0REQ")[0].args
    assert "agreed by <@U0CHO>" in json.dumps(update["blocks"])
    assert "Approve" not in json.dumps(update["blocks"])
    note = bot.api.wait_for("chat.postMessage", channel="U0ANA")[0].args
    assert "<@U0CHO> agreed" in note["text"]
    assert "Go ahead" in note["text"]
    assert "<@U0CHO>" in bot.api.wait_for("chat.postMessage", channel="C0DEC")[0].args["text"]
    assert "<@U0CHO>" in bot.api.wait_for("chat.postMessage", channel="C0KUD")[0].args["text"]
    proposal = bot.only_proposal()
    assert (proposal.status, proposal.decided_by) == ("granted", "U0CHO")


def test_peer_agrees_with_the_button(bot: Bot) -> None:
    bot.driver.command("U0ANA", "late_fee 60 ACC-9 charged during outage")
    request = bot.request_message()
    reply = bot.driver.click_button("U0BEN", channel="C0REQ", ts=request["ts"], action_id="approve")
    assert reply.status == 200
    bot.api.wait_for("chat.update", channel="C0REQ")
    assert len(bot.api.wait_for("chat.postMessage", channel="C0DEC")) == 1
    assert bot.only_proposal().decided_by == "U0BEN"


def test_other_check_reactions_agree_too(bot: Bot) -> None:
    for i, reaction in enumerate(("heavy_check_mark", "+1::skin-tone-2"), start=1):
        bot.driver.command("U0ANA", f"refund 60 #50{i} wrong size")
        request = bot.request_message(count=i)
        bot.driver.react("U0DAN", reaction, channel="C0REQ", ts=request["ts"])
        bot.api.wait_for("chat.postMessage", channel="C0DEC", count=i)
    assert [p.status for p in bot.proposals()] == ["granted", "granted"]


def test_lead_tier_needs_a_lead(bot: Bot) -> None:
    reply = bot.driver.command("U0ANA", "refund 300 #4800 lost parcel, second time")
    assert "a lead's agreement" in reply.json["text"]
    assert "<@U0LEE>" in reply.json["text"]
    request = bot.request_message()
    assert "<@U0LEE>" in request["text"]
    assert "Any lead can also agree" in json.dumps(request["blocks"])

    bot.driver.react("U0BEN", "white_check_mark", channel="C0REQ", ts=request["ts"])  # an agent: ignored
    bot.driver.click_button("U0CHO", channel="C0REQ", ts=request["ts"], action_id="approve")
    told = bot.api.wait_for("chat.postEphemeral", user="U0CHO")[0].args
    assert told["channel"] == "C0REQ"
    assert "only a lead can agree" in told["text"]
    bot.settle()
    assert bot.only_proposal().status == "pending"
    assert bot.api.calls_to("chat.postMessage", channel="C0DEC") == []

    bot.driver.click_button("U0LIZ", channel="C0REQ", ts=request["ts"], action_id="approve")
    bot.api.wait_for("chat.postMessage", channel="C0DEC")
    assert bot.only_proposal().decided_by == "U0LIZ"


def test_above_the_lead_limit_is_explained_and_nothing_happens(bot: Bot) -> None:
    reply = bot.driver.command("U0ANA", "refund 900 #4900 customer is furious")
    text = reply.json["text"]
    assert "outside Leeway's policy" in text
    assert "$500" in text
    assert "on your own up to *$50*" in text
    assert "with a peer up to *$150*" in text
    bot.settle()
    assert bot.proposals() == []
    assert bot.api.calls_to("chat.postMessage") == []


def test_a_mention_names_the_peer(bot: Bot) -> None:
    reply = bot.driver.command("U0ANA", "refund 80 #4713 <@U0DAN|dan> duplicate charge")
    assert "asked <@U0DAN>" in reply.json["text"]
    assert "<@U0DAN>" in bot.request_message()["text"]
    assert bot.only_proposal().asked == "U0DAN"


def test_a_mention_of_someone_who_cannot_agree_is_refused(bot: Bot) -> None:
    cases = {
        "refund 80 #1 <@U0ANA> x": "can't ask you",  # oneself
        "refund 80 #1 <@U0ZED|zed> x": "Only agents and leads",  # not in the policy
        "refund 300 #1 <@U0BEN> x": "only a lead",  # an agent in the lead tier
        "refund 80 #1 <@U0LEEWAY> x": "Leeway itself",  # the bot
    }
    for text, says in cases.items():
        reply = bot.driver.command("U0ANA", text)
        assert says in reply.json["text"], (text, reply.json["text"])
    bot.settle()
    assert bot.proposals() == []


def test_peers_are_asked_fairly_in_rotation(bot: Bot) -> None:
    asked = []
    for i in range(6):
        reply = bot.driver.command("U0ANA", f"refund 70 #60{i} late delivery")
        asked.append(reply.json["text"].split("asked <@")[1].split(">")[0])
        bot.clock.advance(seconds=1)
    # Everyone else gets one ask before anyone gets a second; leads count as peers.
    assert asked == ["U0BEN", "U0CHO", "U0DAN", "U0LEE", "U0LIZ", "U0BEN"]


def test_fewest_open_asks_wins(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 70 #701 x <@U0BEN>")
    bot.driver.command("U0CHO", "refund 70 #702 x <@U0BEN>")
    bot.driver.command("U0DAN", "refund 70 #703 x <@U0ANA>")
    reply = bot.driver.command("U0LEE", "refund 70 #704 x")
    # BEN has two open asks, ANA one; CHO, DAN and LIZ none, so the rotation starts with CHO.
    assert "asked <@U0CHO>" in reply.json["text"]


def test_what_the_customer_thinks_fair_is_shown_to_whoever_agrees(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 90 #4714 fair:$60 box crushed")
    request = bot.request_message()
    shown = json.dumps(request["blocks"])
    assert "Customer thinks fair" in shown
    assert "$60" in shown
    assert bot.only_proposal().customer_fair == Decimal("60.00")


def test_days_remedies_speak_in_days(bot: Bot) -> None:
    reply = bot.driver.command("U0ANA", "ext 5d C-77 missed two lessons sick")
    assert "5 days" in reply.json["text"]
    reply = bot.driver.command("U0ANA", "extension 20 days C-78 moved house")
    assert "20 days" in reply.json["text"]
    assert "asked" in reply.json["text"]


def test_help_and_limits(bot: Bot) -> None:
    help_text = bot.driver.command("U0ANA", "help").json["text"]
    assert "/remedy <remedy> <amount> <case>" in help_text
    assert "fair:" in help_text
    limits = bot.driver.command("U0BEN", "limits").json
    assert "What you may grant" in limits["text"]
    shown = json.dumps(limits["blocks"])
    for fact in (
        "Refund",
        "up to $50",
        "up to $150",
        "up to $500",
        "Extend a course",
        "up to 7 days",
        "Free meal",
        "never charged to you",
    ):
        assert fact in shown, fact
