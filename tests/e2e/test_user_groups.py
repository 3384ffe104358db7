"""People in the policy may be user groups (S…), resolved through Slack."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.runtime import StartupError
from bot.standin import StandInSlack
from tests.e2e.support import start_bot
from tests.policies import TEAM_POLICY
from tests.support import wipe

GROUP_POLICY = TEAM_POLICY.replace("agents: [U0ANA, U0BEN, U0CHO, U0DAN]", "agents: [S0SUPPORT, U0DAN]")


def test_a_user_group_in_the_policy_is_resolved_to_its_members(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    slack.reset()
    wipe(engine)
    slack.set_usergroup("S0SUPPORT", ["U0ANA", "U0BEN"])
    bot = start_bot(slack, database_url, tmp_path, policy=GROUP_POLICY)
    try:
        assert slack.calls_to("usergroups.users.list", usergroup="S0SUPPORT")
        reply = bot.driver.command("U0ANA", "refund 80 #1 x")
        assert "asked <@U0BEN>" in reply.json["text"]  # a member of the group, first in rotation
        request = bot.request_message()
        bot.driver.react("U0CHO", "white_check_mark", channel="C0REQ", ts=request["ts"])  # not in the group
        bot.settle()
        assert bot.only_proposal().status == "pending"
        bot.driver.react("U0BEN", "white_check_mark", channel="C0REQ", ts=request["ts"])
        assert bot.wait_for_status("granted").decided_by == "U0BEN"
        assert "not listed as an agent" in bot.driver.command("U0CHO", "refund 5 #2 x").json["text"]
    finally:
        bot.server.stop()
        bot.leeway.close()
        wipe(engine)
        slack.reset()


@pytest.mark.usefixtures("engine")
def test_a_group_slack_will_not_show_stops_start_up_clearly(
    slack: StandInSlack, database_url: str, tmp_path: Path
) -> None:
    slack.reset()
    slack.fail_next("usergroups.users.list", "missing_scope")
    with pytest.raises(
        StartupError,
        match="Can't read user group S0SUPPORT from Slack: missing_scope "
        r"\(add the usergroups:read scope",
    ):
        start_bot(slack, database_url, tmp_path, policy=GROUP_POLICY)
    slack.reset()
