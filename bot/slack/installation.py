"""The one workspace and app Leeway is installed in, as `auth.test` told it at start.

Bolt is given this instead of calling `auth.test` itself inside the first request (before the
ack): no request waits on Slack, and a proposal is recorded even while Slack's API is away.
Requests from any other workspace or app are ignored, with a log line."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.middleware import Middleware

log = logging.getLogger("leeway.slack")


@dataclass
class Installation:
    team_id: str
    bot_user_id: str
    bot_id: str | None
    bot_token: str
    # A setting, or learned from the first request from this workspace.
    app_id: str | None = None
    _authorized: AuthorizeResult = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._authorized = AuthorizeResult(
            enterprise_id=None,
            team_id=self.team_id,
            bot_user_id=self.bot_user_id,
            bot_id=self.bot_id,
            bot_token=self.bot_token,
        )

    def authorizer(self) -> Callable[..., AuthorizeResult]:
        """Bolt's `authorize`: a plain function (Bolt passes it the arguments it names: none)."""
        authorized = self._authorized

        def authorize() -> AuthorizeResult:
            return authorized

        return authorize

    def foreign(self, body: dict[str, Any]) -> str | None:
        """Why a signed request is not for this installation, or None when it is."""
        team, app = team_of(body), body.get("api_app_id")
        if team is not None and team != self.team_id:
            return f"workspace {team!r}"
        if isinstance(app, str) and app:
            if self.app_id is None and team == self.team_id:
                self.app_id = app
            elif app != self.app_id:
                return f"app {app!r}"
        return None

    def only_ours(self) -> Middleware:
        """Bolt middleware, before authorization: drop what another workspace or app sent."""
        return _OnlyOurs(self)


class _OnlyOurs(Middleware):
    # A Middleware of Bolt's own kind: Bolt calls it as it is, where a plain function would have
    # its arguments built for it on every request (all of Bolt's, whichever it names).
    def __init__(self, installation: Installation) -> None:
        self.installation = installation

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,  # noqa: ARG002 (Bolt's signature)
        next: Callable[[], BoltResponse],
    ) -> BoltResponse | None:
        installation = self.installation
        why = installation.foreign(req.body)
        if why is None:
            next()
            return None
        log.warning("ignored a request from another %s (Leeway is installed in %s)", why, installation.team_id)
        return BoltResponse(status=200, body="")


def team_of(body: dict[str, Any]) -> str | None:
    """The workspace a request comes from: commands and events name it at the top, interactions
    in `team` (or, for some events, only in `team_id` of the user)."""
    team = body.get("team_id")
    if team is None and isinstance(body.get("team"), dict):
        team = body["team"].get("id")
    return team if isinstance(team, str) and team else None
