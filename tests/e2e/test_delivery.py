"""Nothing granted is lost on the way to Slack: rate limits, errors and restarts."""

from __future__ import annotations

import json as _json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from bot.core.vocabulary import OutboxKind
from bot.outbox import PASS_GAP, POSTS, QUIET_GAP, UNPACED, pause, seconds_until
from bot.standin import StandInSlack
from storage import queries
from tests.e2e.support import Bot, start_bot


def test_a_rate_limited_post_waits_for_retry_after_and_is_delivered_once(bot: Bot) -> None:
    bot.api.rate_limit_next("chat.postMessage", retry_after=30, channel="C0DEC")
    reply = bot.driver.command("U0ANA", "refund 20 #1 x")
    assert "Granted" in reply.json["text"]  # the ack never waits on Slack
    bot.api.wait_for("chat.postMessage", channel="C0KUD")
    bot.settle()
    assert bot.posts_to("C0DEC") == []
    (owed,) = [m for m in bot.outbox() if m.kind == "decision"]
    assert owed.status == "pending"
    assert "ratelimited" in (owed.last_error or "")
    bot.clock.advance(seconds=29)
    bot.settle()
    assert bot.posts_to("C0DEC") == []
    bot.clock.advance(seconds=2)
    bot.api.wait_for("chat.postMessage", channel="C0DEC")
    bot.settle()
    assert len(bot.posts_to("C0DEC")) == 1
    assert len(bot.posts_to("C0KUD")) == 1


def test_slack_errors_are_retried_with_backoff(bot: Bot) -> None:
    bot.api.fail_next("chat.postMessage", "internal_error", times=2, channel="C0DEC")
    bot.driver.command("U0ANA", "refund 20 #1 x")
    bot.api.wait_for("chat.postMessage", channel="C0DEC")  # the first failure
    bot.settle()
    for _ in range(3):
        bot.clock.advance(seconds=10)
        bot.settle()
    assert len(bot.posts_to("C0DEC")) == 1
    (sent,) = [m for m in bot.outbox() if m.kind == "decision"]
    assert (sent.status, sent.attempts) == ("sent", 3)


def test_a_channel_leeway_is_not_in_is_surfaced_with_the_fix(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="leeway.outbox")
    bot.api.fail_next("chat.postMessage", "not_in_channel", channel="C0KUD")
    bot.driver.command("U0ANA", "refund 20 #1 x")
    warning = bot.api.wait_for("chat.postMessage", channel="U0ANA")[0].args["text"]
    assert "couldn't post to <#C0KUD>" in warning
    assert "invite @Leeway to <#C0KUD>" in warning
    assert "recorded and safe" in warning
    assert len(bot.posts_to("C0DEC")) == 1  # the audit record still went out
    assert bot.only_proposal().status == "granted"
    assert any("invite @Leeway" in r.getMessage() for r in caplog.records)
    (failed,) = [m for m in bot.outbox() if m.status == "failed"]
    assert failed.kind == "kudos"
    assert failed.last_error
    assert failed.last_error.startswith("not_in_channel")


@pytest.mark.usefixtures("engine")
def test_posts_owed_when_the_process_stopped_are_delivered_after_a_restart(
    slack: StandInSlack, database_url: str, tmp_path: Path, bot: Bot
) -> None:
    bot.leeway.sender.stop()  # the process dies between the grant and the posts
    bot.driver.command("U0ANA", "refund 20 #1 x")
    bot.driver.command("U0ANA", "refund 90 #2 y")
    assert slack.calls_to("chat.postMessage") == []
    bot.server.stop()
    bot.leeway.close()

    again = start_bot(slack, database_url, tmp_path, clock=bot.clock)
    try:
        slack.wait_for("chat.postMessage", channel="C0REQ")
        slack.wait_for("chat.postMessage", channel="C0KUD")
        again.settle()
        assert len(again.posts_to("C0DEC")) == 1
        assert len(again.posts_to("C0KUD")) == 1
        assert len(again.posts_to("C0REQ")) == 1
        assert {m.status for m in again.outbox()} == {"sent"}
    finally:
        again.server.stop()
        again.leeway.close()


def test_a_burst_of_200_decisions_is_paced_per_channel_and_nothing_is_lost(bot: Bot) -> None:

    bot.leeway.sender.post_interval = timedelta(seconds=1)
    for i in range(200):
        assert "Granted" in bot.driver.command("U0ANA", f"refund 5 #{i} burst").json["text"]
    bot.settle()
    # One post per channel per second: the decisions and kudos channels each get one now...
    assert len(bot.posts_to("C0DEC")) == 1
    assert len(bot.posts_to("C0KUD")) == 1
    # ...and the rest wait in the outbox as they were written: no claim, no reschedule, no retry.
    waiting = [m for m in bot.outbox() if m.status == "pending"]
    assert len(waiting) == 398
    assert all((m.attempts, m.last_error, m.claimed_by) == (0, None, None) for m in waiting)
    assert all(m.next_attempt_at == m.created_at for m in waiting)
    for second in range(1, 200):
        bot.clock.advance(seconds=1)
        bot.settle()
        assert len(bot.posts_to("C0DEC")) == second + 1
    # ...and after 200 seconds every decision is posted, once, in order.
    decisions = [p["text"] for p in bot.posts_to("C0DEC")]
    assert len(decisions) == len(set(decisions)) == 200
    assert [int(t.split("case #")[1].split()[0]) for t in decisions] == list(range(200))
    assert len(bot.posts_to("C0KUD")) == 200
    assert {m.status for m in bot.outbox()} == {"sent"}


def test_metrics_count_outcomes_acks_backlog_and_slack_errors(bot: Bot) -> None:

    bot.api.fail_next("chat.postMessage", "not_in_channel", channel="C0KUD")
    bot.driver.command("U0ANA", "refund 20 #1 x")
    bot.driver.command("U0ANA", "refund 900 #2 x")
    bot.api.wait_for("chat.postMessage", channel="U0ANA")  # the warning about kudos
    metrics = bot.leeway.serve_metrics(host="127.0.0.1", port=0)  # their own port, as METRICS_PORT gives them
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics.port}/metrics", timeout=5) as response:
        assert response.headers["content-type"].startswith("text/plain")
        text = response.read().decode()
    assert 'leeway_proposals_total{outcome="granted",tier="alone"} 1.0' in text
    assert 'leeway_proposals_total{outcome="out_of_policy",tier="out_of_policy"} 1.0' in text
    assert 'leeway_time_to_decision_seconds_count{tier="alone"} 1.0' in text
    assert "leeway_ack_seconds_count 2.0" in text
    assert 'leeway_slack_errors_total{code="not_in_channel"} 1.0' in text
    assert "leeway_outbox_backlog " in text
    assert "leeway_outbox_oldest_seconds " in text


def test_health_turns_503_when_the_outbox_falls_behind(bot: Bot) -> None:

    def health() -> tuple[int, dict[str, object]]:
        try:
            with urllib.request.urlopen(f"{bot.server.url}/healthz", timeout=5) as response:
                return response.status, _json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _json.loads(error.read())

    bot.leeway.sender.stop()  # Slack unreachable, say: nothing gets delivered
    bot.driver.command("U0ANA", "refund 20 #1 x")
    bot.clock.advance(seconds=299)
    assert health()[0] == 200
    bot.clock.advance(seconds=2)
    status, report = health()
    assert status == 503
    assert report["status"] == "outbox backlog"
    bot.settle()
    assert health()[0] == 200


def test_a_429_storm_delays_delivery_and_drops_nothing(bot: Bot) -> None:
    bot.api.rate_limit_next("chat.postMessage", retry_after=5, times=40)  # Slack says "slow down", again and again
    for i in range(10):
        assert "Granted" in bot.driver.command("U0ANA", f"refund 5 #{i} storm").json["text"]
    for _ in range(60):  # move time on by Retry-After until Slack stops refusing
        bot.settle()
        if len(bot.posts_to("C0DEC")) == 10 and len(bot.posts_to("C0KUD")) == 10:
            break
        bot.clock.advance(seconds=5)
    assert sorted(p["text"] for p in bot.posts_to("C0DEC")) == sorted(
        f"Granted: Refund $5 for case #{i} by <@U0ANA>" for i in range(10)
    )
    assert len(bot.posts_to("C0KUD")) == 10
    assert len(bot.api.calls_to("chat.postMessage", channel="C0DEC")) > 10  # it really was refused, and retried
    assert {m.status for m in bot.outbox()} == {"sent"}


def test_two_instances_share_one_pace_per_channel(
    slack: StandInSlack, database_url: str, tmp_path: Path, bot: Bot
) -> None:

    other = start_bot(slack, database_url, tmp_path, clock=bot.clock)
    try:
        for running in (bot, other):
            running.leeway.sender.post_interval = timedelta(seconds=1)
        for i in range(6):  # decisions land on either instance, as behind a load balancer
            assert "Granted" in (bot if i % 2 else other).driver.command("U0ANA", f"refund 5 #{i} x").json["text"]
        for second in range(6):
            bot.settle()
            other.settle()
            # Both senders deliver, yet the channel gets one post a second in all.
            assert len(bot.posts_to("C0DEC")) == second + 1
            bot.clock.advance(seconds=1)
        senders = {m.claimed_by for m in bot.outbox()}
        assert senders == {None}  # every claim was released on sending
        decisions = [p["text"] for p in bot.posts_to("C0DEC")]
        assert [int(t.split("case #")[1].split()[0]) for t in decisions] == list(range(6))
    finally:
        other.server.stop()
        other.leeway.close()


def test_a_429_holds_the_whole_channel_until_retry_after(bot: Bot) -> None:

    bot.leeway.sender.post_interval = timedelta(seconds=1)
    bot.api.rate_limit_next("chat.postMessage", retry_after=30, channel="C0DEC")
    for i in range(3):
        bot.driver.command("U0ANA", f"refund 5 #{i} x")
    bot.settle()
    assert len(bot.api.calls_to("chat.postMessage", channel="C0DEC")) == 1  # refused: "retry after 30 s"
    for _ in range(29):  # the next decisions would be refused too: none is even tried
        bot.clock.advance(seconds=1)
        bot.settle()
    assert len(bot.api.calls_to("chat.postMessage", channel="C0DEC")) == 1
    assert len(bot.posts_to("C0KUD")) == 3  # other channels go on as usual
    for _ in range(4):
        bot.clock.advance(seconds=1)
        bot.settle()
    decisions = [p["text"] for p in bot.posts_to("C0DEC")]
    assert len(decisions) == 3
    assert len(bot.api.calls_to("chat.postMessage", channel="C0DEC")) == 4


def test_the_sender_knows_when_the_next_slot_frees(bot: Bot) -> None:

    bot.leeway.sender.stop()  # drive the passes by hand
    bot.leeway.sender.post_interval = timedelta(seconds=1)
    for i in range(3):
        bot.driver.command("U0ANA", f"refund 5 #{i} x")
    bot.settle()
    assert len(bot.posts_to("C0DEC")) == 1
    # Posts wait behind their channel's slot: the sender sleeps until it frees, not a fixed while.
    assert seconds_until(bot.leeway.sender.next_slot, bot.clock()) == 1.0
    bot.clock.advance(seconds=0.4)
    assert abs(seconds_until(bot.leeway.sender.next_slot, bot.clock()) - 0.6) < 1e-9
    bot.clock.advance(seconds=0.6)
    bot.settle()
    assert len(bot.posts_to("C0DEC")) == 2


def _while_each_pass_runs(monkeypatch: pytest.MonkeyPatch, then: Callable[[Session], Any]) -> None:
    """Do `then` in every sender pass just after it claims, as if it happened meanwhile."""

    claim_due = queries.claim_due

    def claim_and_then(session: Session, **args: Any) -> Any:
        claimed = claim_due(session, **args)
        then(session)
        return claimed

    monkeypatch.setattr(queries, "claim_due", claim_and_then)


def _pause_after(bot: Bot, handled: int) -> tuple[float, float]:
    """The sender's rest after a pass, just now, that handled `handled` messages in no time."""

    sender = bot.leeway.sender
    return pause(
        handled,
        elapsed=0.0,
        now=sender.clock(),
        next_slot=sender.next_slot,
        next_attempt=sender.next_attempt,
        idle_wait=sender.idle_wait,
    )


def test_posts_written_during_a_pass_do_not_keep_the_sender_awake(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:

    bot.leeway.sender.stop()  # drive the passes by hand
    bot.leeway.sender.post_interval = timedelta(seconds=1)
    bot.driver.command("U0ANA", "refund 5 #0 x")

    def another_grant_commits(session: Session) -> None:
        bot.clock.advance(seconds=0.001)
        queries.enqueue(session, kind=OutboxKind.DECISION, channel="C0DEC", at=bot.clock())

    _while_each_pass_runs(monkeypatch, another_grant_commits)
    assert bot.leeway.sender.deliver_due() == 2
    # The new post woke the sender itself, and waits behind the slot just taken. Taking it for a
    # retry falling due would cut the gathering short: under load, one pass straight after another.
    gather_after_this_pass, _ = _pause_after(bot, 2)
    gather_after_one_that_sends_nothing, _ = _pause_after(bot, 0)
    assert (gather_after_this_pass, gather_after_one_that_sends_nothing) == (PASS_GAP, QUIET_GAP)


def test_a_retry_falling_due_during_a_pass_is_looked_at_straight_after(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:

    bot.leeway.sender.stop()  # drive the passes by hand
    with bot.leeway.ctx.sessions.begin() as session:  # written a while ago, to be tried again in 5 ms
        queries.enqueue(
            session,
            kind=OutboxKind.NOTICE,
            channel="U0ANA",
            at=bot.clock() + timedelta(milliseconds=5),
            detail={"text": "hello"},
        )
    _while_each_pass_runs(monkeypatch, lambda _session: bot.clock.advance(seconds=0.01))
    assert bot.leeway.sender.deliver_due() == 0
    # Nothing will wake the sender for it: it looks again after the gathering, not its idle wait.
    assert _pause_after(bot, 0) == (PASS_GAP, PASS_GAP)


def test_a_post_whose_sender_died_mid_claim_keeps_its_place_in_line(bot: Bot) -> None:

    bot.leeway.sender.stop()  # drive the passes by hand
    bot.leeway.sender.post_interval = timedelta(seconds=1)
    bot.driver.command("U0ANA", "refund 5 #0 x")
    now = bot.clock()
    with bot.leeway.ctx.sessions.begin() as session:  # another instance claims it, then dies
        taken = queries.claim_due(
            session,
            now=now,
            lease_until=now + timedelta(seconds=2),
            limit=50,
            token="dead-instance",
            paced=POSTS,
            unpaced=UNPACED,
            post_interval=timedelta(seconds=1),
        )
    assert {m.kind for m in taken} == {"decision", "kudos"}
    for i in range(1, 6):  # the channel's line grows behind it
        bot.driver.command("U0ANA", f"refund 5 #{i} x")
    for _ in range(8):
        bot.clock.advance(seconds=1)
        bot.settle()
    # Once its claim lapses (after 2 s), it goes next, not after everything that came later.
    decisions = [p["text"] for p in bot.posts_to("C0DEC")]
    assert [int(t.split("case #")[1].split()[0]) for t in decisions] == [1, 2, 0, 3, 4, 5]
