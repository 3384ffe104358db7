"""No one waits on one busy person: re-routing, expiry, working hours, away/back, withdraw.
Tests move the injected clock and run the scheduled job as the scheduler would."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot import jobs
from bot.standin import StandInSlack
from storage.models import Decision
from tests.e2e.support import Bot, start_bot
from tests.policies import TEAM_POLICY
from tests.support import FakeClock, wipe


def run_schedule(bot: Bot) -> tuple[int, int]:
    done = jobs.requests_due(bot.leeway.ctx)
    bot.settle()
    return done


def thread_pings(bot: Bot, request_ts: str) -> list[str]:
    return [
        c.args["text"]
        for c in bot.api.calls_to("chat.postMessage", channel="C0REQ")
        if c.args.get("thread_ts") == request_ts
    ]


def test_an_unanswered_request_is_offered_to_the_next_person(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 80 #4711 parcel broken")
    request = bot.request_message()
    bot.clock.advance(minutes=9)
    assert run_schedule(bot) == (0, 0)
    assert thread_pings(bot, request["ts"]) == []

    bot.clock.advance(minutes=1)
    assert run_schedule(bot) == (0, 1)
    (ping,) = thread_pings(bot, request["ts"])
    assert ping.startswith("<@U0CHO>, could you take a look")
    assert ping.count("<@") == 1  # only the person now asked: no one is pinged twice or named as slow
    shown = json.dumps(bot.api.message("C0REQ", request["ts"]))
    assert "Also asked: <@U0BEN>" in shown
    assert run_schedule(bot) == (0, 0)  # never double-pings
    assert len(thread_pings(bot, request["ts"])) == 1

    # The earlier person may still answer.
    bot.driver.react("U0BEN", "white_check_mark", channel="C0REQ", ts=request["ts"])
    bot.api.wait_for("chat.postMessage", channel="C0DEC")
    bot.clock.advance(hours=1)
    assert run_schedule(bot) == (0, 0)  # decided: re-routing stops
    assert len(thread_pings(bot, request["ts"])) == 1
    assert bot.only_proposal().decided_by == "U0BEN"


def test_rerouting_asks_each_person_once(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 300 #1 lead tier")  # leads: U0LEE (asked first), U0LIZ
    request = bot.request_message()
    for _ in range(5):
        bot.clock.advance(minutes=10)
        run_schedule(bot)
    # Once everyone has been asked, the request waits where anyone eligible can still answer.
    assert [p.split(">")[0] for p in thread_pings(bot, request["ts"])] == ["<@U0LIZ"]
    bot.driver.react("U0LEE", "white_check_mark", channel="C0REQ", ts=request["ts"])
    bot.api.wait_for("chat.postMessage", channel="C0DEC")


def test_a_request_expires_and_nothing_can_grant_it_afterwards(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 80 #4711 parcel broken fair:50")
    request = bot.request_message()
    bot.clock.advance(hours=3, minutes=59)
    assert run_schedule(bot)[0] == 0
    bot.clock.advance(minutes=1)
    assert run_schedule(bot)[0] == 1

    expired = bot.api.message("C0REQ", request["ts"])
    assert expired is not None
    assert "expired with no answer, so nothing was granted" in expired["text"]
    note = bot.api.wait_for("chat.postMessage", channel="U0ANA")[0].args
    assert "expired before anyone could answer" in note["text"]
    assert "Propose again" in json.dumps(note["blocks"])
    assert bot.only_proposal().status == "expired"

    bot.driver.react("U0BEN", "white_check_mark", channel="C0REQ", ts=request["ts"])
    bot.driver.click("U0CHO", action_id="approve", value=str(bot.only_proposal().id), channel="C0REQ")
    told = bot.api.wait_for("chat.postEphemeral", user="U0CHO")[0].args["text"]
    assert "already expired" in told
    bot.clock.advance(hours=5)
    assert run_schedule(bot) == (0, 0)
    assert bot.only_proposal().status == "expired"
    assert bot.posts_to("C0DEC") == []

    # One click to propose again: the form opens with the same facts, from the database.
    dm = bot.api.wait_for("chat.postMessage", channel="U0ANA")[0].response
    bot.driver.click_button("U0ANA", channel=dm["channel"], ts=dm["ts"], action_id="propose_again")
    bot.api.wait_for("views.open")
    form = bot.api.views_opened()[-1]
    values = {
        b["block_id"]: b["element"].get("initial_value") or (b["element"].get("initial_option") or {}).get("value")
        for b in form["blocks"]
        if b["type"] == "input"
    }
    assert values["remedy_id"] == "refund"
    assert values["amount"] == "$80"
    assert values["fair"] == "$50"
    assert values["case_ref"] == "#4711"
    assert values["summary"] == "parcel broken"


HOURS_POLICY = TEAM_POLICY + 'working_hours: {tz: Europe/Warsaw, days: mon-fri, from: "09:00", to: "18:00"}\n'


def test_outside_working_hours_no_one_is_pinged_and_the_clocks_pause(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    slack.reset()
    wipe(engine)
    friday_evening = FakeClock(FakeClock()().replace(day=27, hour=17, minute=55))  # 18:55 in Warsaw
    bot = start_bot(slack, database_url, tmp_path, policy=HOURS_POLICY, clock=friday_evening)
    try:
        reply = bot.driver.command("U0ANA", "refund 80 #4711 parcel broken")
        assert "outside working hours, so I'll ask at Mon 09:00" in reply.json["text"]
        bot.settle()
        assert bot.posts_to("C0REQ") == []  # no one pinged on Friday night
        bot.clock.advance(hours=39)  # Sunday morning
        run_schedule(bot)
        assert bot.posts_to("C0REQ") == []
        bot.clock.advance(hours=23, minutes=5)  # Monday 09:00 Warsaw (08:00 UTC)
        bot.settle()
        request = bot.request_message()
        bot.clock.advance(minutes=9)
        assert run_schedule(bot) == (0, 0)
        bot.clock.advance(minutes=1)
        assert run_schedule(bot) == (0, 1)
        assert len(thread_pings(bot, request["ts"])) == 1
    finally:
        bot.server.stop()
        bot.leeway.close()
        wipe(engine)
        slack.reset()


def test_time_to_decision_counts_only_working_hours(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """Proposed on Friday night, agreed seven minutes after Monday's start: it took 7 minutes
    of anyone's time, not a weekend, in #decisions and in the record usage reports read."""
    slack.reset()
    wipe(engine)
    friday_evening = FakeClock(FakeClock()().replace(day=27, hour=17, minute=55))  # 18:55 in Warsaw
    bot = start_bot(slack, database_url, tmp_path, policy=HOURS_POLICY, clock=friday_evening)
    try:
        bot.driver.command("U0ANA", "refund 80 #4711 parcel broken")
        bot.clock.advance(hours=62, minutes=5)  # Monday 09:00 in Warsaw
        bot.settle()
        request = bot.request_message()
        bot.clock.advance(minutes=7)
        bot.driver.click_button("U0BEN", channel="C0REQ", ts=request["ts"], action_id="approve")
        bot.settle()
        (decision,) = bot.posts_to("C0DEC")
        fields = [f["text"] for b in decision["blocks"] for f in b.get("fields", [])]
        assert "*Time to decision*\n7 min" in fields
        (updated,) = [c.args for c in bot.api.calls_to("chat.update") if c.ok and c.args.get("ts") == request["ts"]]
        assert "agreed by <@U0BEN> in 7 min." in json.dumps(updated["blocks"])
        with bot.session() as session:
            assert session.scalars(select(Decision.seconds_to_decision)).all() == [7 * 60]
    finally:
        bot.server.stop()
        bot.leeway.close()
        wipe(engine)
        slack.reset()


def test_the_away_are_never_picked_or_pinged(bot: Bot) -> None:
    reply = bot.driver.command("U0BEN", "away for 3d")
    assert "You're away until" in reply.json["text"]
    bot.driver.command("U0CHO", "away")
    assert "asked <@U0DAN>" in bot.driver.command("U0ANA", "refund 80 #1 x").json["text"]
    refused = bot.driver.command("U0ANA", "refund 80 #2 <@U0BEN> x").json["text"]
    assert "<@U0BEN> is away until" in refused
    request = bot.request_message()
    bot.clock.advance(minutes=10)
    run_schedule(bot)
    assert thread_pings(bot, request["ts"])[0].startswith("<@U0LEE>")  # BEN and CHO skipped

    assert "Welcome back" in bot.driver.command("U0CHO", "back").json["text"]
    assert "asked <@U0CHO>" in bot.driver.command("U0ANA", "refund 80 #3 x").json["text"]
    bot.clock.advance(days=3)  # BEN's time away is over by itself
    assert "asked <@U0BEN>" in bot.driver.command("U0ANA", "refund 80 #4 x").json["text"]  # never asked yet


def test_away_with_a_date_in_the_past_is_refused(bot: Bot) -> None:
    reply = bot.driver.command("U0BEN", "away until 2020-01-01")
    assert "already in the past" in reply.json["text"]
    assert "asked <@U0BEN>" in bot.driver.command("U0ANA", "refund 80 #1 x").json["text"]


def test_the_proposer_can_withdraw_with_the_button_or_the_command(bot: Bot) -> None:
    reply = bot.driver.command("U0ANA", "refund 80 #4711 x")
    withdraw = next(e for b in reply.json["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert withdraw["action_id"] == "withdraw"
    assert withdraw["text"]["text"] == "Withdraw"
    request = bot.request_message()

    bot.driver.click("U0BEN", action_id="withdraw", value=withdraw["value"], channel="C0GENERAL")
    assert "Only the person who proposed it" in bot.api.wait_for("chat.postEphemeral", user="U0BEN")[0].args["text"]
    bot.driver.click("U0ANA", action_id="withdraw", value=withdraw["value"], channel="C0GENERAL")
    assert "Withdrawn" in bot.api.wait_for("chat.postEphemeral", user="U0ANA")[0].args["text"]
    bot.api.wait_for("chat.update", channel="C0REQ")
    # The same neutral words as a decline: a closed request never says how it closed.
    closed = bot.api.message("C0REQ", request["ts"])
    assert closed is not None
    assert "is closed. Nothing more is needed here" in closed["text"]
    bot.driver.react("U0BEN", "white_check_mark", channel="C0REQ", ts=request["ts"])
    bot.clock.advance(hours=5)
    run_schedule(bot)
    assert bot.only_proposal().status == "withdrawn"
    assert bot.posts_to("C0DEC") == []
    assert thread_pings(bot, request["ts"]) == []

    bot.driver.command("U0ANA", "late_fee 60 ACC-9 y")
    assert "Withdrawn" in bot.driver.command("U0ANA", "withdraw acc-9").json["text"]
    assert "no pending request for case `ACC-9`" in bot.driver.command("U0ANA", "withdraw ACC-9").json["text"]


def at_once(job: Callable[[Any], tuple[int, int]], *instances: Bot) -> list[tuple[int, int]]:
    """Run a scheduled job on several instances at the same moment, as their schedulers would."""
    start = threading.Barrier(len(instances))
    results: list[tuple[int, int]] = []

    def tick(instance: Bot) -> None:
        start.wait()
        results.append(job(instance.leeway.ctx))

    threads = [threading.Thread(target=tick, args=(b,)) for b in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.usefixtures("engine")
def test_two_instances_reroute_and_expire_each_request_once(
    slack: StandInSlack, database_url: str, tmp_path: Path, bot: Bot
) -> None:
    for i in range(5):
        bot.driver.command("U0ANA", f"refund 80 #{i} x")
    bot.api.wait_for("chat.postMessage", channel="C0REQ", count=5)
    (tmp_path / "second").mkdir()
    other = start_bot(slack, database_url, tmp_path / "second", clock=bot.clock)
    try:
        bot.clock.advance(minutes=10)
        results = at_once(jobs.requests_due, bot, other)
        assert sum(r[1] for r in results) == 5
        bot.settle()
        other.settle()
        pings = [c for c in slack.calls_to("chat.postMessage", channel="C0REQ") if c.args.get("thread_ts")]
        assert len(pings) == 5
        bot.clock.advance(hours=4)
        results = at_once(jobs.requests_due, bot, other)
        assert sum(r[0] for r in results) == 5
        other.settle()
        bot.settle()
        assert len(bot.posts_to("U0ANA")) == 5  # one expiry note each
    finally:
        other.server.stop()
        other.leeway.close()


def test_a_ping_is_never_sent_for_a_request_decided_meanwhile(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 80 #4711 x")
    request = bot.request_message()
    bot.leeway.sender.stop()  # the sender falls behind (a rate limit, a restart)
    bot.clock.advance(minutes=10)
    assert jobs.requests_due(bot.leeway.ctx) == (0, 1)  # the ping is owed...
    bot.driver.react("U0BEN", "white_check_mark", channel="C0REQ", ts=request["ts"])  # ...but Ben agrees first
    bot.wait_for_status("granted")
    bot.settle()
    assert thread_pings(bot, request["ts"]) == []
    assert len(bot.posts_to("C0DEC")) == 1


def test_a_request_held_for_working_hours_skips_someone_who_went_away(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    slack.reset()
    wipe(engine)
    friday_evening = FakeClock(FakeClock()().replace(day=27, hour=17, minute=55))
    bot = start_bot(slack, database_url, tmp_path, policy=HOURS_POLICY, clock=friday_evening)
    try:
        assert "I'll ask at Mon 09:00: <@U0BEN>" in bot.driver.command("U0ANA", "refund 80 #1 x").json["text"]
        bot.driver.command("U0BEN", "away for 3d")
        bot.clock.advance(hours=62, minutes=5)  # Monday 09:00 in Warsaw
        bot.settle()
        request = bot.request_message()
        assert "<@U0BEN>" not in json.dumps(request)
        assert request["text"].startswith("<@U0CHO>")
    finally:
        bot.server.stop()
        bot.leeway.close()
        wipe(engine)
        slack.reset()
