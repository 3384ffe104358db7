"""The policy in force: the file's limits with the leads' changes, read again at most every so
often by requests, and at once by the instance that made the change."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from bot import services
from bot.core.authority import Roster
from bot.core.policy import Tier
from bot.services.context import PolicyInForce
from storage import db
from storage.db import make_sessions
from tests.policies import team_policy
from tests.support import FakeClock, wipe

ROSTER = Roster(agents=("U0ANA", "U0BEN"), leads=("U0LEE",), bot_user="U0BOT")


class Ticks:
    """An injected monotonic clock."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def two(engine: Engine) -> Iterator[tuple[services.Context, services.Context]]:
    """Two instances on one database: `here` changes limits, `there` serves requests."""
    wipe(engine)
    made = [
        services.Context(
            base_policy=team_policy(),
            roster=lambda: ROSTER,
            sessions=make_sessions(engine),
            clock=FakeClock(),
            limits_refresh_seconds=1.0,
        )
        for _ in range(2)
    ]
    yield made[0], made[1]
    wipe(engine)


def alone_limit(ctx: services.Context) -> Decimal:
    refund = ctx.policy.remedy("refund")
    assert refund is not None
    return refund.alone_up_to


def test_a_change_applies_at_once_here_and_within_the_refresh_elsewhere(
    two: tuple[services.Context, services.Context],
) -> None:
    here, there = two
    ticks = Ticks()
    there.in_force.monotonic = ticks
    there.refresh_policy_if_due()  # its first request reads the limits
    changed = services.set_limit(here, user="U0LEE", remedy_id="refund", tier=Tier.ALONE, amount=Decimal(60))
    assert isinstance(changed, services.LimitChanged)
    assert alone_limit(here) == Decimal(60)  # where it was made: at once
    ticks.now += 0.5
    there.refresh_policy_if_due()
    assert alone_limit(there) == Decimal(50)  # elsewhere: not read again yet
    ticks.now += 0.5
    there.refresh_policy_if_due()
    assert alone_limit(there) == Decimal(60)  # within LIMITS_REFRESH_SECONDS


def test_reading_the_changes_only_when_their_version_moved(engine: Engine) -> None:
    wipe(engine)
    in_force = PolicyInForce(team_policy())
    sessions = make_sessions(engine)
    with db.reading(sessions) as session:
        first = in_force.refresh(session)
        assert in_force.refresh(session) is first  # nothing changed: the same policy object
    wipe(engine)
