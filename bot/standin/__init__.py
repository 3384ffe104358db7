"""Stand-in Slack for end-to-end tests and ``python -m bot demo``.

:class:`StandInSlack` is a local HTTP server answering Slack Web API calls (and response URLs) the
way Slack does; :class:`SlackDriver` sends signed commands, clicks, view submissions and events to
the bot exactly as Slack would.
"""

from __future__ import annotations

from pathlib import Path

from bot.standin.driver import Reply, SlackDriver
from bot.standin.slack_api import ApiCall, Hold, StandInSlack

__all__ = ["ApiCall", "Hold", "Reply", "SlackDriver", "StandInSlack", "default_spec_path"]

_SPEC_RELATIVE = Path("..", "shared", "slack", "web-api", "slack_web_openapi_v2_without_examples.json")


def default_spec_path() -> Path | None:
    """Slack's Web API OpenAPI description, looked up at ``../shared/...`` from the current working
    directory, then from the repository root (the parent of the ``bot`` package); None if absent."""
    repo_root = Path(__file__).resolve().parent.parent.parent
    for base in (Path.cwd(), repo_root):
        candidate = base / _SPEC_RELATIVE
        if candidate.is_file():
            return candidate.resolve()
    return None
