"""A ✅ made while Slack's answer to the request post is still on its way counts, once, as if it
had come a moment later; one on a message that is not a request of ours is still ignored."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import select

from bot import jobs, services
from bot.standin import Hold, StandInSlack
from storage.models import EarlyReaction
from tests.e2e.support import Bot, start_bot


def posted_but_unanswered(bot: Bot) -> tuple[Hold, str]:
    """A request Slack has posted, people see and react to, while its answer to Leeway is held."""
    answer = bot.api.hold_answer_next("chat.postMessage", channel="C0REQ")
    assert "I've asked <@U0BEN>" in bot.driver.command("U0ANA", "refund 80 #4712 charged twice").json["text"]
    (call,) = bot.api.wait_for("chat.postMessage", channel="C0REQ")
    return answer, call.response["ts"]


def kept(bot: Bot) -> list[tuple[str, str]]:
    with bot.session() as session:
        return [(r.ts, r.user) for r in session.scalars(select(EarlyReaction).order_by(EarlyReaction.id))]


def wait_until_kept(bot: Bot, count: int, timeout: float = 5.0) -> None:
    """Reactions are handled after the ack: poll until Leeway has kept them."""
    deadline = time.monotonic() + timeout
    while len(kept(bot)) < count:
        assert time.monotonic() < deadline, f"kept {kept(bot)}, not {count}"
        time.sleep(0.02)


def assert_granted_once_by(bot: Bot, approver: str) -> None:
    assert bot.wait_for_status("granted").decided_by == approver
    update = bot.api.wait_for("chat.update", channel="C0REQ")[0].args
    assert f"agreed by <@{approver}>" in json.dumps(update["blocks"])
    note = bot.api.wait_for("chat.postMessage", channel="U0ANA")[0].args
    assert f"<@{approver}> agreed" in note["text"]
    assert "Go ahead" in note["text"]
    assert f"<@{approver}>" in bot.api.wait_for("chat.postMessage", channel="C0DEC")[0].args["text"]
    assert f"<@{approver}>" in bot.api.wait_for("chat.postMessage", channel="C0KUD")[0].args["text"]
    bot.settle()
    assert len(bot.posts_to("C0DEC")) == 1
    assert len(bot.posts_to("C0KUD")) == 1
    assert len(bot.posts_to("U0ANA")) == 1
    assert kept(bot) == []


def test_a_check_made_before_slack_answers_the_post_grants_once_it_does(bot: Bot) -> None:
    answer, ts = posted_but_unanswered(bot)
    assert bot.driver.react("U0BEN", "white_check_mark", channel="C0REQ", ts=ts).status == 200
    wait_until_kept(bot, 1)
    assert bot.only_proposal().status == "pending"  # Leeway can't yet tell it is its request
    answer.release()
    assert_granted_once_by(bot, "U0BEN")


def test_a_redelivered_early_check_grants_once(bot: Bot) -> None:
    answer, ts = posted_but_unanswered(bot)
    for retry in (None, 1, 2, 3):
        reply = bot.driver.react(
            "U0BEN", "white_check_mark", channel="C0REQ", ts=ts, event_id="Ev0EARLY", retry_num=retry
        )
        assert reply.status == 200
    wait_until_kept(bot, 1)
    answer.release()
    assert_granted_once_by(bot, "U0BEN")
    bot.driver.react("U0BEN", "white_check_mark", channel="C0REQ", ts=ts, event_id="Ev0EARLY", retry_num=4)
    bot.settle()
    assert len(bot.posts_to("C0DEC")) == 1
    assert bot.only_proposal().decided_by == "U0BEN"


def test_an_early_check_delivered_to_two_instances_grants_once(
    slack: StandInSlack, database_url: str, tmp_path: Path, bot: Bot
) -> None:
    (tmp_path / "second").mkdir()
    other = start_bot(slack, database_url, tmp_path / "second", clock=bot.clock)
    try:
        answer, ts = posted_but_unanswered(bot)
        for instance in (bot, other):
            instance.driver.react("U0BEN", "white_check_mark", channel="C0REQ", ts=ts, event_id="Ev0EARLY")
        wait_until_kept(bot, 1)
        time.sleep(0.2)  # the second delivery finds the reaction already kept
        assert len(kept(bot)) == 1
        answer.release()
        jobs.requests_due(other.leeway.ctx)  # the other instance's schedule may look at once, too
        assert_granted_once_by(bot, "U0BEN")
        other.settle()
        assert len(bot.posts_to("C0DEC")) == 1
        assert len(bot.posts_to("C0KUD")) == 1
    finally:
        other.server.stop()
        other.leeway.close()


def test_an_ineligible_early_check_is_ignored_when_applied(bot: Bot) -> None:
    answer, ts = posted_but_unanswered(bot)
    bot.driver.react("U0ANA", "white_check_mark", channel="C0REQ", ts=ts)  # the proposer's own
    bot.driver.react("U0ZED", "heavy_check_mark", channel="C0REQ", ts=ts)  # someone outside the policy
    wait_until_kept(bot, 2)
    answer.release()
    bot.request_message()
    bot.settle()
    assert kept(bot) == []  # applied, and found wanting
    assert bot.only_proposal().status == "pending"
    assert bot.api.calls_to("chat.postEphemeral") == []
    assert bot.posts_to("C0DEC") == []
    bot.driver.react("U0BEN", "white_check_mark", channel="C0REQ", ts=ts)
    assert_granted_once_by(bot, "U0BEN")


def test_a_check_on_another_message_is_ignored_and_forgotten(bot: Bot) -> None:
    answer, ts = posted_but_unanswered(bot)
    bot.driver.react("U0BEN", "white_check_mark", channel="C0REQ", ts="1111111111.000001")
    wait_until_kept(bot, 1)
    answer.release()
    bot.request_message()
    bot.settle()
    assert kept(bot) == [("1111111111.000001", "U0BEN")]  # matches no request: kept a while
    # With no request on its way, a ✅ elsewhere can't be on one of ours: nothing is kept.
    ctx = bot.leeway.ctx
    assert services.agree_by_reaction(ctx, channel="C0REQ", ts="1111111111.000002", user="U0CHO", reaction="+1") is None
    assert len(kept(bot)) == 1
    bot.clock.advance(minutes=59)
    jobs.requests_due(ctx)
    assert len(kept(bot)) == 1
    bot.clock.advance(minutes=2)
    jobs.requests_due(ctx)
    assert kept(bot) == []
    bot.settle()
    assert bot.only_proposal().status == "pending"
    assert bot.posts_to("C0DEC") == []
    bot.driver.react("U0CHO", "white_check_mark", channel="C0REQ", ts=ts)
    assert bot.wait_for_status("granted").decided_by == "U0CHO"


def test_the_schedule_applies_what_a_stopped_sender_did_not(bot: Bot) -> None:
    bot.leeway.sender.request_posted = lambda _channel, _ts: None  # it stops between recording and applying
    answer, ts = posted_but_unanswered(bot)
    early = services.agree_by_reaction(bot.leeway.ctx, channel="C0REQ", ts=ts, user="U0BEN", reaction="+1")
    assert early is None
    assert len(kept(bot)) == 1
    answer.release()
    bot.request_message()
    bot.settle()
    assert bot.only_proposal().status == "pending"
    assert len(kept(bot)) == 1
    jobs.requests_due(bot.leeway.ctx)
    assert_granted_once_by(bot, "U0BEN")
