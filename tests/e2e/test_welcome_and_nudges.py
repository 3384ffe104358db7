"""One welcome for someone new to the roster; a nudge, never a ranking, for an agent who hasn't
used their authority. End to end: the real HTTP endpoint, the stand-in Slack, a moved clock."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bot import jobs
from bot.standin import StandInSlack
from tests.e2e.support import Bot, start_bot
from tests.policies import AGENTS, LEADS, TEAM_POLICY
from tests.support import FakeClock

EVERYONE = (*AGENTS, *LEADS)
HOURS = 'working_hours: {tz: UTC, days: mon-fri, from: "09:00", to: "18:00"}\n'
WELCOME, REMINDER = "Welcome to Leeway", "a reminder that you can fix"


@contextmanager
def instance(
    slack: StandInSlack, database_url: str, tmp_path: Path, name: str, clock: FakeClock, policy: str
) -> Iterator[Bot]:
    """Another Leeway on the same database (a restart, or a second instance)."""
    (tmp_path / name).mkdir()
    running = start_bot(slack, database_url, tmp_path / name, clock=clock, policy=policy)
    try:
        yield running
    finally:
        running.server.stop()
        running.leeway.close()


def dms(bot: Bot, user: str, containing: str) -> list[dict[str, object]]:
    """What `user` got privately, once every instance's sender has delivered what is owed."""
    bot.settle()
    deadline = time.monotonic() + 5
    while any(m.status in ("pending", "sending") for m in bot.outbox()) and time.monotonic() < deadline:
        time.sleep(0.02)  # another instance's sender may hold a claim on it
    return [p for p in bot.posts_to(user) if containing in str(p["text"])]


def move_to(bot: Bot, when: datetime) -> None:
    bot.clock.advance(seconds=(when - bot.clock()).total_seconds())


def test_everyone_new_is_welcomed_once_ever(slack: StandInSlack, database_url: str, tmp_path: Path, bot: Bot) -> None:
    assert jobs.people_due(bot.leeway.ctx) == (len(EVERYONE), 0)  # day one: everyone is new
    (welcome,) = dms(bot, "U0ANA", WELCOME)
    text = str(welcome["text"])
    assert "Refund: on your own up to *$50* · with a peer up to *$150* · with a lead up to *$500*" in text
    assert "Free meal: on your own up to *$25* · with a lead up to *$60*" in text
    assert "`/remedy refund 50 #4711 what happened, in a few words`" in text
    assert "No one ever pays for a decision made in good faith" in text
    assert "As a lead" not in text
    (lead_welcome,) = dms(bot, "U0LEE", WELCOME)
    assert "As a lead" in str(lead_welcome["text"])
    assert jobs.people_due(bot.leeway.ctx) == (0, 0)

    # After a restart, or on a second instance, no one is welcomed again; someone added is.
    bigger = TEAM_POLICY.replace("U0DAN]", "U0DAN, U0EVE]")
    with instance(slack, database_url, tmp_path, "again", bot.clock, bigger) as again:
        assert jobs.people_due(again.leeway.ctx) == (1, 0)
        assert jobs.people_due(again.leeway.ctx) == (0, 0)
        assert jobs.people_due(bot.leeway.ctx) == (0, 0)
        assert len(dms(again, "U0EVE", WELCOME)) == 1
    for user in EVERYONE:
        assert len(dms(bot, user, WELCOME)) == 1, user
    for channel in ("C0REQ", "C0DEC", "C0KUD"):
        assert bot.posts_to(channel) == []  # a welcome is private


def test_the_welcome_waits_for_working_hours(slack: StandInSlack, database_url: str, tmp_path: Path, bot: Bot) -> None:
    move_to(bot, datetime(2026, 11, 28, 10, 0, tzinfo=UTC))  # a Saturday
    with instance(slack, database_url, tmp_path, "hours", bot.clock, TEAM_POLICY + HOURS) as hours:
        assert jobs.people_due(hours.leeway.ctx) == (0, 0)
        assert dms(hours, "U0ANA", WELCOME) == []
        move_to(bot, datetime(2026, 11, 30, 9, 0, tzinfo=UTC))  # Monday's opening
        assert jobs.people_due(hours.leeway.ctx) == (len(EVERYONE), 0)
        assert len(dms(hours, "U0ANA", WELCOME)) == 1


def test_with_welcome_off_no_one_is_welcomed_and_no_one_later(
    slack: StandInSlack, database_url: str, tmp_path: Path, bot: Bot
) -> None:
    with instance(slack, database_url, tmp_path, "off", bot.clock, TEAM_POLICY + "welcome: off\n") as quiet:
        assert jobs.people_due(quiet.leeway.ctx) == (0, 0)
    # Turned on later: those seen meanwhile aren't new any more.
    assert jobs.people_due(bot.leeway.ctx) == (0, 0)
    assert all(dms(bot, user, WELCOME) == [] for user in EVERYONE)


DAY_ONE = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday: the bots' clocks start here


def test_an_agent_who_hasnt_used_their_authority_is_nudged_privately_once_per_period(bot: Bot) -> None:
    assert jobs.people_due(bot.leeway.ctx) == (len(EVERYONE), 0)
    move_to(bot, datetime(2026, 12, 7, 9, 0, tzinfo=UTC))  # Monday, day 13
    assert "Granted" in bot.driver.command("U0BEN", "late_fee 15 #7 fee charged twice").json["text"]
    assert jobs.people_due(bot.leeway.ctx) == (0, 0)  # no one has been here 14 days yet
    move_to(bot, datetime(2026, 12, 8, 10, 0, tzinfo=UTC))  # Tuesday, day 14
    assert jobs.people_due(bot.leeway.ctx) == (0, 3)  # Ana, Cho and Dan; Ben just decided; leads coach
    (nudge,) = dms(bot, "U0ANA", REMINDER)
    assert "<@U0BEN> granted *Waive a late fee: $15* on their own yesterday; you can too, up to $20." in str(
        nudge["text"]
    )
    assert "No more of these" in json.dumps(nudge["blocks"])
    assert dms(bot, "U0BEN", REMINDER) == []
    assert dms(bot, "U0LEE", REMINDER) == []
    assert jobs.people_due(bot.leeway.ctx) == (0, 0)  # at most one per period
    bot.clock.advance(days=12)
    assert jobs.people_due(bot.leeway.ctx) == (0, 0)  # Ben's grant is 13 days old: not due yet

    # "No more of these" works only for the agent it was sent to, whatever the button says.
    sent = bot.api.wait_for("chat.postMessage", channel="U0ANA", count=2)[-1].response
    bot.driver.click_button("U0CHO", channel="U0ANA", ts=sent["ts"], action_id="no_more_nudges")
    refused = bot.api.wait_for("chat.postEphemeral", user="U0CHO")[-1].args["text"]
    assert "Only the person this reminder was sent to" in refused
    bot.driver.click_button("U0ANA", channel="U0ANA", ts=sent["ts"], action_id="no_more_nudges")
    done = bot.api.wait_for("chat.postEphemeral", user="U0ANA")[-1].args["text"]
    assert "no more reminders" in done

    move_to(bot, datetime(2026, 12, 22, 10, 0, tzinfo=UTC))  # a period after the first nudges
    assert jobs.people_due(bot.leeway.ctx) == (0, 3)  # Ben, Cho and Dan; not Ana any more
    assert len(dms(bot, "U0ANA", REMINDER)) == 1
    assert len(dms(bot, "U0CHO", REMINDER)) == 2
    # Ben's own grant is the only one, and long past: his nudge names no one.
    (ben,) = dms(bot, "U0BEN", REMINDER)
    assert "On your own you may grant Refund up to $50, Waive a late fee up to $20" in str(ben["text"])
    for channel in ("C0REQ", "C0DEC", "C0KUD"):
        assert all(REMINDER not in str(p["text"]) for p in bot.posts_to(channel))


def test_leads_see_only_how_many_agents_were_nudged(bot: Bot) -> None:
    jobs.people_due(bot.leeway.ctx)
    move_to(bot, datetime(2026, 12, 8, 10, 0, tzinfo=UTC))
    assert jobs.people_due(bot.leeway.ctx) == (0, len(AGENTS))
    move_to(bot, datetime(2026, 12, 14, 9, 0, tzinfo=UTC))  # Monday: the week's digest
    assert jobs.weekly(bot.leeway.ctx) == 3
    for lead in LEADS:
        (digest,) = dms(bot, lead, "weekly Leeway digest")
        lines = [line for line in str(digest["text"]).splitlines() if "nudged" in line]
        assert lines == [
            "4 agents were nudged this week, privately, to use their authority. Who is between them and Leeway."
        ]
    celebration = [str(p["text"]) for p in bot.posts_to("C0KUD")]
    assert all("nudged" not in text for text in celebration)


def test_nudges_wait_for_working_hours_and_several_instances_nudge_once(
    slack: StandInSlack, database_url: str, tmp_path: Path, bot: Bot
) -> None:
    policy = TEAM_POLICY + HOURS
    with (
        instance(slack, database_url, tmp_path, "one", bot.clock, policy) as one,
        instance(slack, database_url, tmp_path, "two", bot.clock, policy) as two,
    ):
        assert jobs.people_due(one.leeway.ctx) == (len(EVERYONE), 0)
        move_to(bot, datetime(2026, 12, 12, 10, 0, tzinfo=UTC))  # Saturday, past 14 days
        assert jobs.people_due(one.leeway.ctx) == (0, 0)
        move_to(bot, datetime(2026, 12, 14, 8, 59, tzinfo=UTC))  # Monday, a minute before opening
        assert jobs.people_due(two.leeway.ctx) == (0, 0)
        bot.clock.advance(minutes=1)
        results: list[tuple[int, int]] = []
        start = threading.Barrier(2)

        def run(running: Bot) -> None:
            start.wait()
            results.append(jobs.people_due(running.leeway.ctx))

        threads = [threading.Thread(target=run, args=(running,)) for running in (one, two)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(nudged for _, nudged in results) == len(AGENTS)
        for agent in AGENTS:
            assert len(dms(one, agent, REMINDER)) == 1, agent
