"""How an end-to-end test runs Leeway: its real HTTP endpoint, signed requests, and a stand-in
Slack that checks every Web API call against Slack's own spec."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.runtime import Leeway, build
from bot.settings import Settings
from bot.standin import SlackDriver, StandInSlack
from bot.web import ServerThread
from storage.models import OutboxMessage, Proposal
from tests.policies import TEAM_POLICY
from tests.support import SHARED, FakeClock

SIGNING_SECRET = "e2e-signing-secret"
SPEC = SHARED / "slack" / "web-api" / "slack_web_openapi_v2_without_examples.json"


@dataclass
class Bot:
    """One running Leeway, and the ways a test talks to it and looks at it."""

    api: StandInSlack
    driver: SlackDriver
    leeway: Leeway
    clock: FakeClock
    server: ServerThread

    def proposals(self) -> list[Proposal]:
        with self.leeway.ctx.sessions() as session:
            return list(session.scalars(select(Proposal).order_by(Proposal.id)))

    def only_proposal(self) -> Proposal:
        (proposal,) = self.proposals()
        return proposal

    def outbox(self) -> list[OutboxMessage]:
        with self.leeway.ctx.sessions() as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    def session(self) -> Session:
        return self.leeway.ctx.sessions()

    def posts_to(self, channel: str) -> list[dict[str, Any]]:
        return [c.args for c in self.api.calls_to("chat.postMessage", channel=channel) if c.ok]

    def request_message(self, count: int = 1) -> dict[str, Any]:
        """The newest request post, once delivered, as Slack now shows it."""
        call = self.api.wait_for("chat.postMessage", channel="C0REQ", count=count)[-1]
        message = self.api.message(call.response["channel"], call.response["ts"])
        assert message is not None
        return message

    def wait_for_status(self, status: str, timeout: float = 5.0) -> Proposal:
        """Work done after the ack (a reaction, say) lands a moment later: poll the database for it."""
        deadline = time.monotonic() + timeout
        while True:
            proposal = self.proposals()[-1]
            if proposal.status == status or time.monotonic() > deadline:
                assert proposal.status == status, f"still {proposal.status}, not {status}"
                return proposal
            time.sleep(0.02)

    def settle(self) -> None:
        """Deliver everything owed now (the sender thread does the same on its own)."""
        for _ in range(50):
            if not self.leeway.sender.deliver_due():
                return


def start_bot(
    api: StandInSlack,
    database_url: str,
    tmp_path: Path,
    *,
    policy: str = TEAM_POLICY,
    clock: FakeClock | None = None,
    **overrides: Any,
) -> Bot:
    """`overrides`: settings other than the tests' defaults (`api_rate_limit_per_minute=3`, say)."""
    policy_file = tmp_path / "policy.yml"
    policy_file.write_text(policy)
    settings = Settings(
        slack_bot_token=SecretStr("xoxb-e2e"),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_api_url=api.url,
        database_url=database_url,
        leeway_policy=policy_file,
        limits_refresh_seconds=0,  # another instance's limit change applies at the next request
        _env_file=None,
        **overrides,
    )  # type: ignore[call-arg]
    clock = clock or FakeClock()
    leeway = build(settings, clock=clock)
    leeway.sender.idle_wait = 0.05
    # Pacing has its own test (test_delivery); elsewhere it would only make tests move the clock.
    leeway.sender.post_interval = timedelta(0)
    leeway.sender.start()
    server = ServerThread(leeway.asgi()).start()
    driver = SlackDriver(f"{server.url}/slack/events", SIGNING_SECRET, api=api)
    return Bot(api=api, driver=driver, leeway=leeway, clock=clock, server=server)


@contextmanager
def instances(
    api: StandInSlack,
    database_url: str,
    tmp_path: Path,
    *,
    policy: str,
    clock: FakeClock,
    count: int = 2,
    **overrides: Any,
) -> Iterator[list[Bot]]:
    """Several instances of Leeway on one database, with one policy and one clock."""
    started: list[Bot] = []
    try:
        for n in range(count):
            (tmp_path / f"instance-{n}").mkdir()
            started.append(
                start_bot(api, database_url, tmp_path / f"instance-{n}", policy=policy, clock=clock, **overrides)
            )
        yield started
    finally:
        for instance in started:
            instance.server.stop()
            instance.leeway.close()


def logged(caplog: pytest.LogCaptureFixture, wanted: Callable[[str], bool], within: float = 5.0) -> bool:
    """Whether a line saying what was committed has been logged; a line follows its commit, so give it a moment."""
    deadline = time.monotonic() + within
    while True:
        if any(wanted(record.getMessage()) for record in caplog.records):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
