"""What the API's end-to-end tests share: a running Leeway with its API, and integrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from bot.core.vocabulary import Scope
from bot.services import integrations
from bot.standin import StandInSlack
from tests.e2e.support import Bot, start_bot
from tests.support import wipe

# High enough that no test but the rate limit's own meets it (the tests' clock stands still).
UNLIMITED = 100_000


@contextmanager
def running(slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path, **settings: Any) -> Iterator[Bot]:
    slack.reset()
    wipe(engine)
    bot = start_bot(slack, database_url, tmp_path, **{"api_rate_limit_per_minute": UNLIMITED, **settings})
    try:
        yield bot
    finally:
        bot.server.stop()
        bot.leeway.close()
        problems = slack.violations
        slack.reset()
        wipe(engine)
    assert problems == [], f"calls Slack would reject: {problems}"


def token_for(bot: Bot, name: str = "helpdesk", *scopes: Scope) -> str:
    return integrations.add_integration(
        bot.leeway.ctx.sessions, name=name, scopes=frozenset(scopes or {Scope.PROPOSE}), now=bot.clock()
    )


def client(bot: Bot, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=f"{bot.server.url}/api/v1", headers=headers, timeout=10)


def proposal(**changes: Any) -> dict[str, Any]:
    """The body issue #13 shows, for an agent."""
    body: dict[str, Any] = {
        "remedy": "late_fee",
        "amount": "15",
        "case": "#4711",
        "what_happened": "Charged a late fee during the outage.",
        "fair": "10",
        "requested_by": "agent",
        "agent": "U0ANA",
        "customer": {"id": "cus_42", "name": "Ada"},
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}
