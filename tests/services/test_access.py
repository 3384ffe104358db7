from __future__ import annotations

import pytest
from sqlalchemy.orm import sessionmaker

from bot import services
from bot.core.authority import Roster
from tests.policies import team_policy
from tests.support import FakeClock


@pytest.mark.parametrize(
    ("user", "may"),
    [("U0ANA", True), ("U0LEE", True), ("U0BOT", False), ("U0STRANGER", False)],
)
def test_only_agents_and_leads_may_propose(user: str, may: bool) -> None:
    roster = Roster(agents=("U0ANA",), leads=("U0LEE",), bot_user="U0BOT")
    ctx = services.Context(base_policy=team_policy(), roster=lambda: roster, sessions=sessionmaker(), clock=FakeClock())
    refused = services.may_propose(ctx, user=user)
    if may:
        assert refused is None
    else:
        assert isinstance(refused, services.Refused)
        assert "not listed as an agent" in refused.reason
