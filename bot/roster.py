"""The policy's people, with user groups (S…) resolved through Slack."""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.authority import Roster
from bot.core.policy import Policy

log = logging.getLogger("leeway.roster")


class RosterError(Exception):
    pass


class RosterDirectory:
    """Callable that returns the current Roster; `refresh()` re-reads user groups."""

    def __init__(self, policy: Policy, client: WebClient, *, bot_user: str | None) -> None:
        self.policy = policy
        self.client = client
        self.bot_user = bot_user
        self._lock = threading.Lock()
        self._roster = Roster(agents=(), leads=(), bot_user=bot_user)

    def __call__(self) -> Roster:
        with self._lock:
            return self._roster

    def refresh(self, *, strict: bool = False) -> None:
        """Resolve groups. At start (`strict`) a failure stops Leeway; later it keeps the last roster."""
        try:
            agents = self._expand(self.policy.people.agents)
            leads = self._expand(self.policy.people.leads)
        except RosterError:
            if strict:
                raise
            log.exception("could not refresh user groups; keeping the previous roster")
            return
        with self._lock:
            self._roster = Roster(agents=agents, leads=leads, bot_user=self.bot_user)

    def _expand(self, ids: tuple[str, ...]) -> tuple[str, ...]:
        out: list[str] = []
        for entry in ids:
            members = self._group(entry) if entry.startswith("S") else [entry]
            out.extend(m for m in members if m not in out)
        return tuple(out)

    def _group(self, group: str) -> list[str]:
        try:
            response = self.client.usergroups_users_list(usergroup=group)
        except SlackApiError as error:
            code = error.response.get("error")
            hint = " (add the usergroups:read scope and reinstall the app)" if code == "missing_scope" else ""
            raise RosterError(f"Can't read user group {group} from Slack: {code}{hint}.") from None
        users = response.get("users") or []
        return [str(u) for u in users]
