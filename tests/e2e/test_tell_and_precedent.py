"""What to tell the customer, with the grant; and the precedent a request is asked with, in the
request post, its ping and the proposer's reply. End to end, through the real HTTP endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import jobs
from bot.standin import StandInSlack
from tests.e2e.support import Bot, start_bot
from tests.policies import TEAM_POLICY

REFUND_PROMISE = "The refund goes back to the original payment method within 5 business days."
TELLING_POLICY = TEAM_POLICY.replace(
    "    lead_up_to: 500\n", f"    lead_up_to: 500\n    tell_customer: {REFUND_PROMISE}\n", 1
)


@pytest.fixture
def telling(slack: StandInSlack, database_url: str, tmp_path: Path, bot: Bot) -> Iterator[Bot]:
    """Leeway with what to tell the customer about refunds (the `bot` fixture cleans up)."""
    # The `bot` fixture's own instance sends nothing here: its sender would render with a policy
    # that has nothing to tell the customer, and may be the one to claim a message first.
    bot.leeway.sender.stop()
    (tmp_path / "telling").mkdir()
    running = start_bot(slack, database_url, tmp_path / "telling", clock=bot.clock, policy=TELLING_POLICY)
    try:
        yield running
    finally:
        running.server.stop()
        running.leeway.close()


def test_the_granted_reply_says_what_to_tell_the_customer(telling: Bot) -> None:
    reply = telling.driver.command("U0ANA", "refund 30 #4711 parcel arrived broken").json
    assert "Granted — go ahead" in reply["text"]
    assert f"*Tell the customer:* {REFUND_PROMISE}" in reply["text"]
    assert REFUND_PROMISE in json.dumps(reply["blocks"])
    # A remedy with nothing set promises nothing.
    fee = telling.driver.command("U0ANA", "late_fee 10 #4712 fee charged twice").json["text"]
    assert "Granted — go ahead" in fee
    assert "Tell the customer" not in fee


def test_the_proposers_message_when_a_peer_agrees_says_what_to_tell_the_customer(telling: Bot) -> None:
    asked = telling.driver.command("U0ANA", "refund 80 #4711 parcel arrived broken").json["text"]
    assert "Tell the customer" not in asked  # not granted yet: nothing to promise
    request = telling.request_message()
    telling.driver.click_button("U0BEN", channel="C0REQ", ts=request["ts"], action_id="approve")
    (note,) = [c.args for c in telling.api.wait_for("chat.postMessage", channel="U0ANA")]
    assert "<@U0BEN> agreed" in note["text"]
    assert f"*Tell the customer:* {REFUND_PROMISE}" in note["text"]
    # Nothing of it goes to the channels: it is the agent's to pass on.
    telling.settle()
    for channel in ("C0REQ", "C0DEC", "C0KUD"):
        assert all(REFUND_PROMISE not in json.dumps(p) for p in telling.posts_to(channel))


def test_a_request_and_the_proposers_reply_show_how_the_team_granted_it_lately(bot: Bot) -> None:
    bot.driver.command("U0BEN", "refund 10 #1 long ago")
    bot.clock.advance(days=31)  # past the 30 days: not counted
    for user, amount, case in (("U0ANA", 30, 2), ("U0BEN", 40, 3), ("U0CHO", 20, 4)):
        assert "Granted" in bot.driver.command(user, f"refund {amount} #{case} parcel broken").json["text"]
        assert "The team granted" not in bot.driver.command(user, "late_fee 5 #9 x").json["text"]  # alone: none
    line = "The team granted 3 of these in the last 30 days, median $30; this one is $60."
    reply = bot.driver.command("U0DAN", "refund 60 #5 charged twice").json
    assert "needs a peer's agreement" in reply["text"]
    assert line in reply["text"]
    request = bot.request_message()
    assert line in json.dumps(request["blocks"])

    # Frozen when asked: a grant meanwhile changes neither its updates nor its ping.
    bot.driver.command("U0ANA", "refund 50 #6 parcel broken")
    bot.clock.advance(minutes=11)
    assert jobs.requests_due(bot.leeway.ctx) == (0, 1)
    bot.settle()
    (ping,) = [c.args for c in bot.api.calls_to("chat.postMessage", channel="C0REQ") if c.args.get("thread_ts")]
    assert line in ping["text"]
    updated = bot.api.message("C0REQ", request["ts"])
    assert updated is not None
    assert "Also asked" in json.dumps(updated["blocks"])
    assert line in json.dumps(updated["blocks"])


def test_the_first_of_a_remedy_in_a_while_says_so_plainly(bot: Bot) -> None:
    reply = bot.driver.command("U0ANA", "extension 10 #7 course platform was down")
    assert "The first of these for the team in the last 30 days." in reply.json["text"]
    assert "The first of these" in json.dumps(bot.request_message()["blocks"])
    # One before it reads as one, not as a median.
    bot.driver.command("U0BEN", "meal 20 #8 order lost")
    reply = bot.driver.command("U0CHO", "meal 40 #9 order lost twice")
    assert "The team granted 1 of these in the last 30 days, for $20; this one is $40." in reply.json["text"]
