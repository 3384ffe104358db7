"""The loop closes with the customer: the agent who granted a remedy says how the customer took
it, by button or command; a delighted customer joins the celebration's thread; nothing
negative is ever posted."""

from __future__ import annotations

import json

from bot.core.vocabulary import CustomerOutcome
from storage import queries
from tests.e2e.support import Bot
from tests.e2e.test_review_usage_home import blocks_text, report


def buttons_in(blocks: list[dict[str, object]]) -> dict[str, str]:
    found = {}
    for block in blocks:
        for element in block.get("elements") or []:  # type: ignore[attr-defined]
            if element.get("type") == "button":
                found[str(element["action_id"])] = str(element.get("value"))
    return found


def decision_outcome(bot: Bot, proposal_id: int) -> CustomerOutcome | None:
    with bot.session() as session:
        decision = queries.decision_of(session, proposal_id=proposal_id)
        assert decision is not None
        return decision.outcome


def test_a_delighted_customer_joins_the_celebration_once(bot: Bot) -> None:
    ack = bot.driver.command("U0ANA", "refund 30 #4711 parcel arrived broken").json
    assert "Granted — go ahead" in ack["text"]
    proposal = bot.only_proposal()
    assert "How did the customer take it?" in blocks_text(ack)
    asked = buttons_in(ack["blocks"])
    assert asked == {
        "outcome_delighted": str(proposal.id),
        "outcome_ok": str(proposal.id),
        "outcome_unhappy": str(proposal.id),
    }
    kudos = bot.api.wait_for("chat.postMessage", channel="C0KUD")[0]

    # Only the agent who granted it may say; the button's value names the proposal and nothing else.
    bot.driver.click("U0BEN", action_id="outcome_delighted", value=str(proposal.id), channel="C0GENERAL")
    assert "Only the agent who granted it" in bot.api.wait_for("chat.postEphemeral", user="U0BEN")[0].args["text"]
    assert decision_outcome(bot, proposal.id) is None

    for _ in range(2):  # a double click says it once
        bot.driver.click("U0ANA", action_id="outcome_delighted", value=str(proposal.id), channel="C0GENERAL")
    told = bot.api.wait_for("chat.postEphemeral", user="U0ANA", count=2)
    assert "Wonderful!" in told[0].args["text"]
    thread = bot.api.wait_for("chat.postMessage", channel="C0KUD", count=2)[1].args
    assert thread["thread_ts"] == kudos.response["ts"]
    assert "The customer was delighted with *Refund: $30*" in thread["text"]
    bot.settle()
    assert len(bot.api.calls_to("chat.postMessage", channel="C0KUD")) == 2
    assert decision_outcome(bot, proposal.id) is CustomerOutcome.DELIGHTED


def test_an_unhappy_customer_is_kept_for_leads_and_never_posted(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 90 #4712 charged twice")
    request = bot.request_message()
    bot.driver.click_button("U0BEN", channel="C0REQ", ts=request["ts"], action_id="approve")
    (note,) = bot.api.wait_for("chat.postMessage", channel="U0ANA")
    assert "How did the customer take it?" in json.dumps(note.args["blocks"])
    proposal = bot.only_proposal()
    assert buttons_in(note.args["blocks"])["outcome_unhappy"] == str(proposal.id)

    reply = bot.driver.command("U0ANA", "outcome #4712 unhappy").json["text"]
    assert "never to blame" in reply
    assert decision_outcome(bot, proposal.id) is CustomerOutcome.UNHAPPY
    # The latest word counts.
    assert "Noted" in bot.driver.command("U0ANA", "outcome #4712 ok").json["text"]
    assert decision_outcome(bot, proposal.id) is CustomerOutcome.OK
    bot.settle()
    for channel in ("C0REQ", "C0DEC", "C0KUD"):
        assert all("unhappy" not in json.dumps(p).lower() for p in bot.posts_to(channel))


def test_telling_an_outcome_says_what_to_fix(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 30 #4711 parcel arrived broken")
    assert "no granted decision of yours" in bot.driver.command("U0ANA", "outcome #9999 ok").json["text"]
    assert "no granted decision of yours" in bot.driver.command("U0BEN", "outcome #4711 ok").json["text"]
    assert "isn't one of delighted, ok or unhappy" in bot.driver.command("U0ANA", "outcome #4711 great").json["text"]
    assert "Write `/remedy outcome" in bot.driver.command("U0ANA", "outcome #4711").json["text"]
    assert decision_outcome(bot, bot.only_proposal().id) is None


def test_usage_shows_outcomes_per_remedy_to_leads_never_per_agent(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 30 #4711 parcel arrived broken")
    bot.driver.command("U0BEN", "refund 20 #4712 late again")
    bot.driver.command("U0CHO", "late_fee 10 #4713 billing outage")
    assert "Wonderful" in bot.driver.command("U0ANA", "outcome #4711 delighted").json["text"]
    assert "never to blame" in bot.driver.command("U0BEN", "outcome #4712 unhappy").json["text"]
    assert "Noted" in bot.driver.command("U0CHO", "outcome #4713 ok").json["text"]
    usage = report(bot, "U0LEE", "usage 7d")["text"]
    (line,) = [line for line in usage.splitlines() if "How customers took it" in line]
    assert (
        line
        == "*How customers took it*, as agents told it: Refund: 1 delighted, 1 still unhappy; Waive a late fee: 1 OK."
    )
    assert "<@" not in line
    assert "something to learn from together" in usage
    assert "Only leads can see usage" in report(bot, "U0BEN", "usage 7d")["text"]
