"""The customer's own tier, end to end: a customer serving themselves in the product, and a
customer's request an agent takes up in Slack (Take it, or ✅), through the real HTTP endpoint and
the stand-in Slack. The order comes in through `propose_from_product`, as the HTTP API calls it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot import jobs
from bot.core.lifecycle import Status
from bot.core.policy import Tier
from bot.core.vocabulary import RequestedBy
from bot.services.product import ProductAnswer, ProductOrder, propose_from_product, standing
from bot.standin import StandInSlack
from tests.e2e.support import Bot, start_bot
from tests.e2e.test_review_usage_home import blocks_text, report
from tests.policies import TEAM_POLICY

# late_fee: a customer serves themselves up to $15; alone 20, peer 100, lead 300.
LATE_FEE = "    alone_up_to: 20\n    peer_up_to: 100\n"
assert LATE_FEE in TEAM_POLICY
SHOP_POLICY = TEAM_POLICY.replace(LATE_FEE, "    customer_up_to: 15\n" + LATE_FEE)
WORDS = "I paid on time but my bank was slow"


@pytest.fixture
def shop(slack: StandInSlack, database_url: str, tmp_path: Path, bot: Bot) -> Iterator[Bot]:
    """Leeway with a customer tier on late fees (the `bot` fixture cleans up)."""
    # The `bot` fixture's own sender stays quiet: it would render with a policy with no customer tier.
    bot.leeway.sender.stop()
    (tmp_path / "shop").mkdir()
    running = start_bot(slack, database_url, tmp_path / "shop", clock=bot.clock, policy=SHOP_POLICY)
    try:
        yield running
    finally:
        running.server.stop()
        running.leeway.close()


def ask(
    bot: Bot, amount: str, *, case: str = "#4711", fair: str | None = "12", key: str | None = None
) -> ProductAnswer:
    """A customer asks the product for a late fee waiver."""
    order = ProductOrder(
        integration="Acme Shop",
        remedy_id="late_fee",
        amount=Decimal(amount),
        case_ref=case,
        what_happened=WORDS,
        fair=Decimal(fair) if fair is not None else None,
        requested_by=RequestedBy.CUSTOMER,
        agent=None,
        customer_id="8812",
        customer_name="Dana Lee",
    )
    return propose_from_product(bot.leeway.ctx, order, source_key=f"api:1:{key or case + amount}")


def now(bot: Bot, answer: ProductAnswer) -> ProductAnswer:
    found = standing(bot.leeway.ctx, answer.id)
    assert found is not None
    return found


def told(bot: Bot, user: str, count: int = 1) -> list[str]:
    return [c.args["text"] for c in bot.api.wait_for("chat.postEphemeral", user=user, count=count)]


def posted(bot: Bot, proposal_id: int) -> dict[str, Any]:
    """The request post, once the sender has recorded where it is (its clocks start then)."""
    message = bot.request_message()
    deadline = time.monotonic() + 5
    while not any(p.id == proposal_id and p.request_ts for p in bot.proposals()):
        assert time.monotonic() < deadline, "the request's post was never recorded"
        time.sleep(0.02)
    return message


def updates(bot: Bot, ts: str) -> list[dict[str, Any]]:
    return [c.args for c in bot.api.calls_to("chat.update", channel="C0REQ", ts=ts) if c.ok]


def test_a_customer_serves_themselves_within_the_customer_tier(shop: Bot) -> None:
    answer = ask(shop, "15")
    assert (answer.status, answer.tier, answer.proposer) == (Status.GRANTED, Tier.CUSTOMER, None)

    record = shop.api.wait_for("chat.postMessage", channel="C0DEC")[0].args
    assert "self-served by the customer in Acme Shop" in record["text"]
    assert "$15" in record["text"]
    assert "#4711" in record["text"]
    shown = blocks_text(record)
    for fact in ("Dana Lee (customer 8812)", WORDS, "customer (self-served by the customer)", "within policy"):
        assert fact in shown, fact
    assert "<@" not in shown  # no agent decided it, so none is named
    shop.settle()
    assert shop.posts_to("C0KUD") == []  # no one to celebrate
    assert shop.posts_to("C0REQ") == []  # no one to ask

    usage = blocks_text(report(shop, "U0LEE", "usage"))
    assert "*Self-served by customers* (the customer tier): 1 time, $15" in usage
    assert "0 decisions" in usage  # not counted as any agent's decision


def test_an_agent_takes_up_a_customers_request_within_their_own_authority(shop: Bot) -> None:
    answer = ask(shop, "18")
    assert (answer.status, answer.proposer) == (Status.PENDING, None)

    request = shop.request_message()
    assert "A customer asked for Waive a late fee $18 for case #4711. Could you take it up?" in request["text"]
    shown = blocks_text(request)
    for fact in (
        "Dana Lee (customer 8812) asked in Acme Shop",
        "In the customer's words",
        WORDS,
        "Customer thinks fair",
        "$12",
        "$18",
        "Take it",
        "alone (within an agent's own authority)",
    ):
        assert fact in shown, fact
    assert "Approve" not in shown  # nothing to agree to until someone takes it up

    shop.driver.click_button("U0BEN", channel="C0REQ", ts=request["ts"], action_id="take_it")

    update = shop.api.wait_for("chat.update", channel="C0REQ")[0].args
    assert "Granted" in update["text"]
    assert "<@U0BEN>" in blocks_text(update)
    assert "Take it" not in blocks_text(update)
    decision = shop.api.wait_for("chat.postMessage", channel="C0DEC")[0].args
    assert "<@U0BEN>" in decision["text"]
    assert "$18" in decision["text"]
    assert "Dana Lee" in blocks_text(decision)  # on whose behalf
    note = shop.api.wait_for("chat.postMessage", channel="U0BEN")[0].args
    assert "You took up" in note["text"]
    assert "Go ahead" in note["text"]
    assert (now(shop, answer).status, now(shop, answer).proposer) == (Status.GRANTED, "U0BEN")
    shop.settle()
    assert shop.api.calls_to("chat.postEphemeral", user="U0BEN") == []  # the note says it all


def test_above_the_takers_authority_a_peer_agrees_and_standing_shows_it_granted(shop: Bot) -> None:
    answer = ask(shop, "60", fair="60")
    request = shop.request_message()
    shop.driver.click_button("U0ANA", channel="C0REQ", ts=request["ts"], action_id="take_it")
    (reply,) = told(shop, "U0ANA")
    assert "I've asked <@U0BEN>" in reply
    taken = now(shop, answer)
    assert (taken.status, taken.tier, taken.proposer) == (Status.PENDING, Tier.PEER, "U0ANA")

    update = shop.api.wait_for("chat.update", channel="C0REQ")[0].args
    asked = blocks_text(update)
    assert "<@U0BEN>, can you agree?" in asked
    assert "Approve" in asked
    assert "Take it" not in asked
    assert "Dana Lee" in asked

    shop.driver.click_button("U0ANA", channel="C0REQ", ts=request["ts"], action_id="approve")  # the taker
    assert "someone else needs to agree" in told(shop, "U0ANA", count=2)[1]
    shop.driver.click_button("U0BEN", channel="C0REQ", ts=request["ts"], action_id="approve")
    shop.api.wait_for("chat.postMessage", channel="C0DEC")
    granted = now(shop, answer)
    assert (granted.status, granted.tier, granted.proposer, granted.decided_by) == (
        Status.GRANTED,
        Tier.PEER,
        "U0ANA",
        "U0BEN",
    )
    note = shop.api.wait_for("chat.postMessage", channel="U0ANA")[0].args
    assert "<@U0BEN> agreed" in note["text"]


def test_who_was_asked_to_take_it_up_is_not_counted_as_asked_to_agree(shop: Bot) -> None:
    answer = ask(shop, "250", fair=None)  # the lead tier: the taker and a lead
    request = posted(shop, answer.id)
    first_asked = shop.only_proposal().asked
    assert first_asked is not None
    assert "an agent who takes it up, with a lead" in blocks_text(request)
    taker = next(u for u in ("U0ANA", "U0BEN", "U0CHO") if u != first_asked)
    shop.driver.click_button(taker, channel="C0REQ", ts=request["ts"], action_id="take_it")
    update = shop.api.wait_for("chat.update", channel="C0REQ")[0].args
    shown = blocks_text(update)
    assert "Any lead can also agree" in shown
    assert "Also asked" not in shown  # the agent asked to take it up can't agree to a lead's request
    asked = shop.only_proposal().asked
    assert asked in ("U0LEE", "U0LIZ")
    shop.clock.advance(minutes=11)
    assert jobs.requests_due(shop.leeway.ctx) == (0, 1)
    shop.settle()
    assert shop.only_proposal().asked in ("U0LEE", "U0LIZ")
    assert shop.only_proposal().asked != asked
    again = blocks_text(shop.api.message("C0REQ", request["ts"]) or {})
    assert f"Also asked: <@{asked}>. They can still answer too." in again


def test_a_peer_agrees_with_a_reaction_once_it_is_taken_up(shop: Bot) -> None:
    answer = ask(shop, "60")
    request = shop.request_message()
    shop.driver.click_button("U0ANA", channel="C0REQ", ts=request["ts"], action_id="take_it")
    shop.api.wait_for("chat.update", channel="C0REQ")
    shop.driver.react("U0CHO", "white_check_mark", channel="C0REQ", ts=request["ts"])
    shop.wait_for_status("granted")
    assert (now(shop, answer).proposer, now(shop, answer).decided_by) == ("U0ANA", "U0CHO")


def test_a_reaction_on_a_customers_request_takes_it_up(shop: Bot) -> None:
    answer = ask(shop, "18")
    request = shop.request_message()
    shop.driver.react("U0CHO", "white_check_mark", channel="C0REQ", ts=request["ts"])
    shop.wait_for_status("granted")
    assert (now(shop, answer).proposer, now(shop, answer).decided_by) == ("U0CHO", "U0CHO")
    assert "You took up" in shop.api.wait_for("chat.postMessage", channel="U0CHO")[0].args["text"]
    assert "<@U0CHO>" in shop.api.wait_for("chat.postMessage", channel="C0DEC")[0].args["text"]


def test_two_agents_take_it_at_once_one_wins_and_the_other_hears_who(shop: Bot) -> None:
    answer = ask(shop, "18")
    request = shop.request_message()
    takers = ["U0ANA", "U0BEN", "U0CHO", "U0DAN"]
    start = threading.Barrier(len(takers))
    statuses: list[int] = []

    def take(user: str) -> None:
        start.wait()
        statuses.append(shop.driver.click_button(user, channel="C0REQ", ts=request["ts"], action_id="take_it").status)

    threads = [threading.Thread(target=take, args=(u,)) for u in takers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * len(takers)
    shop.api.wait_for("chat.postMessage", channel="C0DEC")
    shop.settle()
    winner = now(shop, answer).proposer
    assert winner in takers
    assert len(shop.posts_to("C0DEC")) == 1
    late = [c.args for c in shop.api.wait_for("chat.postEphemeral", count=len(takers) - 1)]
    assert sorted(c["user"] for c in late) == sorted(u for u in takers if u != winner)
    for said in late:
        assert f"<@{winner}> took this one up" in said["text"], said["text"]


def test_forged_clicks_are_refused_and_the_button_value_only_names_a_request(shop: Bot) -> None:
    answer = ask(shop, "18")
    request = shop.request_message()
    shop.driver.click_button("U0ZED", channel="C0REQ", ts=request["ts"], action_id="take_it")  # not an agent
    assert "not listed as an agent" in told(shop, "U0ZED")[0]
    # Approve and Decline, forged onto a request no one has taken up yet.
    shop.driver.click("U0BEN", action_id="approve", value=str(answer.id), channel="C0REQ", message=request)
    assert "take it up first" in told(shop, "U0BEN")[0]
    shop.driver.click("U0BEN", action_id="decline", value=str(answer.id), channel="C0REQ", message=request)
    assert "take it up first" in told(shop, "U0BEN", count=2)[1]
    # A lead's review, forged by an agent, and a lead's on what a customer served themselves.
    served = ask(shop, "10", case="#9")
    shop.driver.click("U0CHO", action_id="review_looks_good", value=str(served.id), channel="C0DEC")
    assert "Only leads" in told(shop, "U0CHO")[0]
    shop.driver.click("U0LEE", action_id="review_looks_good", value=str(served.id), channel="C0DEC")
    assert "no longer exists" in told(shop, "U0LEE")[0]
    shop.settle()
    assert now(shop, answer).status == Status.PENDING
    assert now(shop, answer).proposer is None

    # Take it on this message, naming the other request: what is taken up is read by the id alone.
    other = ask(shop, "60", case="#77")
    forged = {**request, "text": "late fee $1", "blocks": []}
    shop.driver.click("U0DAN", action_id="take_it", value=str(other.id), channel="C0REQ", message=forged)
    assert "I've asked" in told(shop, "U0DAN")[0]
    assert (now(shop, other).proposer, now(shop, other).amount) == ("U0DAN", Decimal("60.00"))
    assert now(shop, answer).proposer is None  # the message it was clicked on is untouched


def test_an_untaken_request_is_offered_on_then_expires_with_nothing_negative_posted(shop: Bot) -> None:
    answer = ask(shop, "18")
    request = posted(shop, answer.id)
    shop.clock.advance(minutes=11)
    assert jobs.requests_due(shop.leeway.ctx) == (0, 1)
    shop.settle()
    pings = [c.args["text"] for c in shop.api.calls_to("chat.postMessage", channel="C0REQ") if c.args.get("thread_ts")]
    assert len(pings) == 1
    assert pings[0].count("<@") == 1  # only the person now asked
    assert "take this one up" in pings[0]

    shop.clock.advance(hours=4)
    assert jobs.requests_due(shop.leeway.ctx)[0] == 1
    shop.settle()
    assert now(shop, answer).status == Status.EXPIRED
    closed = updates(shop, request["ts"])[-1]
    assert "expired" in closed["text"]
    assert "Take it" not in blocks_text(closed)
    everything = json.dumps([c.args for c in shop.api.calls_to("chat.postMessage") if c.ok])
    everything += json.dumps([c.args for c in shop.api.calls_to("chat.update") if c.ok])
    for cold in ("declined", "ignored", "no one took", "nobody", "failed", "sorry", "too late"):
        assert cold not in everything.lower(), cold
    assert shop.posts_to("C0DEC") == []
    assert shop.posts_to("C0KUD") == []
    # Taking it up now changes nothing, and says so kindly.
    shop.driver.click("U0BEN", action_id="take_it", value=str(answer.id), channel="C0REQ", message=request)
    assert "expired" in told(shop, "U0BEN")[0]


def test_an_agents_home_lists_customers_waiting_for_someone_to_take_them_up(shop: Bot) -> None:
    for n in range(7):
        ask(shop, "18", case=f"#{n}")
    ask(shop, "15", case="#99")  # self-served: nothing to take up
    shop.driver.event({"type": "app_home_opened", "user": "U0BEN", "channel": "D0BEN", "tab": "home"})
    shop.api.wait_for("views.publish", user_id="U0BEN")
    view = shop.api.home_view("U0BEN") or {}
    shown = blocks_text(view)
    assert "Customers waiting for an agent" in shown
    assert len(view["blocks"]) <= 100
    takes = [b for b in view["blocks"] if (b.get("accessory") or {}).get("action_id") == "take_it"]
    assert len(takes) == 5  # the five waiting longest; the rest are in the requests channel
    assert "case *#0*" in takes[0]["text"]["text"]
    assert "Dana Lee" in takes[0]["text"]["text"]
    assert WORDS in takes[0]["text"]["text"]

    # Take it on the Home works as in the channel.
    shop.driver.click("U0BEN", action_id="take_it", value=takes[0]["accessory"]["value"], channel="D0BEN")
    shop.api.wait_for("chat.postMessage", channel="C0DEC", count=2)  # the self-served one's, then Ben's
    oldest, *rest, _self_served = shop.proposals()
    assert (oldest.case_ref, oldest.status, oldest.proposer) == ("#0", Status.GRANTED, "U0BEN")
    assert [p.status for p in rest] == [Status.PENDING] * 6

    # Someone who is not an agent sees none of them.
    shop.driver.event({"type": "app_home_opened", "user": "U0ZED", "channel": "D0ZED", "tab": "home"})
    shop.api.wait_for("views.publish", user_id="U0ZED")
    assert "Customers waiting" not in blocks_text(shop.api.home_view("U0ZED") or {})
