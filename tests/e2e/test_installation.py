"""Leeway serves the one workspace and app it is installed in, and never waits on Slack to ack."""

from __future__ import annotations

import logging

import pytest

from bot.standin import SlackDriver
from tests.e2e.support import SIGNING_SECRET, Bot


def test_no_request_calls_slack_before_its_ack(bot: Bot) -> None:
    started = len(bot.api.calls_to("auth.test"))
    reply = bot.driver.command("U0ANA", "refund 20 #4711 parcel broken")
    assert "Granted — go ahead" in reply.json["text"]
    assert len(bot.api.calls_to("auth.test")) == started  # Bolt was given what start-up learned


def test_a_proposal_is_recorded_while_slack_is_away(bot: Bot) -> None:
    bot.leeway.sender.stop()  # nothing is delivered meanwhile: the posts wait in the outbox
    bot.api.fail_next("auth.test", "service_unavailable", times=50)
    reply = bot.driver.command("U0ANA", "refund 20 #4711 parcel broken")
    assert "Granted — go ahead" in reply.json["text"]
    assert bot.only_proposal().status == "granted"
    assert {m.kind for m in bot.outbox() if m.status == "pending"} == {"decision", "kudos"}


@pytest.mark.parametrize(("team_id", "app_id"), [("T0OTHER", "A0LEEWAY"), ("T0LEEWAY", "A0OTHER")])
def test_a_command_from_another_workspace_or_app_is_ignored(
    bot: Bot, team_id: str, app_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    bot.driver.command("U0ANA", "help")  # the app's own id is learned from its own workspace
    stranger = SlackDriver(bot.driver.bot_url, SIGNING_SECRET, api=bot.api, team_id=team_id, api_app_id=app_id)
    with caplog.at_level(logging.WARNING, logger="leeway.slack"):
        reply = stranger.command("U0ANA", "refund 20 #4711 parcel broken")
    assert reply.status == 200
    assert reply.body == ""
    assert bot.proposals() == []
    assert any("ignored a request from another" in r.getMessage() for r in caplog.records)


def test_a_reaction_from_another_workspace_is_ignored(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 80 #4711 parcel broken")
    request = bot.request_message()
    stranger = SlackDriver(bot.driver.bot_url, SIGNING_SECRET, api=bot.api, team_id="T0OTHER")
    stranger.react("U0BEN", "white_check_mark", channel="C0REQ", ts=request["ts"])
    bot.settle()
    assert bot.only_proposal().status == "pending"
    assert bot.posts_to("C0DEC") == []
