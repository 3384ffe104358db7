"""End to end: the bot's real HTTP endpoint, signed requests, and a stand-in Slack that
checks every Web API call against Slack's own spec."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.standin import StandInSlack
from tests.e2e.support import SPEC, Bot, start_bot
from tests.support import wipe


@pytest.fixture(scope="session")
def slack() -> Iterator[StandInSlack]:
    assert SPEC.exists(), f"Slack's Web API spec is missing at {SPEC}"
    with StandInSlack(spec_path=SPEC) as api:
        yield api


@pytest.fixture
def bot(slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path) -> Iterator[Bot]:
    slack.reset()
    wipe(engine)
    running = start_bot(slack, database_url, tmp_path)
    try:
        yield running
    finally:
        running.server.stop()
        running.leeway.close()
        problems = slack.violations
        slack.reset()
        wipe(engine)
    assert problems == [], f"calls Slack would reject: {problems}"
