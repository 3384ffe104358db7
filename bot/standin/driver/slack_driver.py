"""The driver: what users do in Slack, sent to the bot as Slack would send it, signed.

When given the stand-in Slack (``api``), it names users as the stand-in knows them, hands out
response URLs the stand-in answers, and clicks buttons on messages the bot posted there.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

from bot.standin.driver import payloads
from bot.standin.driver.blocks import buttons
from bot.standin.driver.client import Reply, SignedClient
from bot.standin.driver.view_state import build_state
from bot.standin.slack_api import StandInSlack

__all__ = ["SlackDriver"]


class SlackDriver(SignedClient):
    """Sends Slack-shaped, correctly signed requests to the bot's endpoint."""

    def __init__(
        self,
        bot_url: str,
        signing_secret: str,
        *,
        team_id: str = "T0LEEWAY",
        api_app_id: str = "A0LEEWAY",
        api: StandInSlack | None = None,
        clock: Callable[[], float] = time.time,
        bot_user_id: str | None = None,
        team_domain: str = "leeway-standin",
        verification_token: str = "standin-verification-token",
    ) -> None:
        super().__init__(bot_url, signing_secret, clock=clock)
        self.team_id = team_id
        self.api_app_id = api_app_id
        self.api = api
        self.bot_user_id = bot_user_id or (api.bot_user_id if api is not None else "U0LEEWAY")
        self.team_domain = team_domain
        self.verification_token = verification_token
        self._counter: Iterator[int] = itertools.count(1)

    # ------------------------------------------------------------------ helpers

    @property
    def _app(self) -> payloads.Installation:
        return payloads.Installation(
            team_id=self.team_id,
            team_domain=self.team_domain,
            api_app_id=self.api_app_id,
            verification_token=self.verification_token,
            bot_user_id=self.bot_user_id,
        )

    def _next(self) -> int:
        return next(self._counter)

    def new_trigger_id(self) -> str:
        n = self._next()
        return f"{13345224609 + n}.{738474920 + n}.{secrets.token_hex(10)[:19]}"

    def _now_ts(self) -> str:
        return f"{self.clock():.6f}"

    def _user_name(self, user: str) -> str:
        if self.api is not None:
            record = self.api.user(user)
            if record is not None:
                return str(record["name"])
        return user.lower()

    def _user(self, user: str) -> dict[str, Any]:
        return self._app.user(user, self._user_name(user))

    def _response_url(self, kind: str, *, channel: str, user: str, message_ts: str | None = None) -> str:
        n = self._next()
        if self.api is None:
            return f"https://hooks.slack.com/{kind}/{self.team_id}/{n}/{secrets.token_hex(12)}"
        return self.api.response_url(f"{kind}-{n}", channel=channel, message_ts=message_ts, user=user)

    # ------------------------------------------------------------------ slash commands

    def command(
        self,
        user: str,
        text: str = "",
        *,
        command: str = "/remedy",
        channel: str = "C0GENERAL",
        user_name: str | None = None,
        trigger_id: str | None = None,
    ) -> Reply:
        fields = payloads.slash_command(
            self._app,
            user=user,
            user_name=user_name if user_name is not None else self._user_name(user),
            channel=channel,
            command=command,
            text=text,
            response_url=self._response_url("commands", channel=channel, user=user),
            trigger_id=trigger_id or self.new_trigger_id(),
        )
        return self.post_form(fields)

    # ------------------------------------------------------------------ interactivity

    def click(
        self,
        user: str,
        *,
        action_id: str,
        value: str | None,
        channel: str,
        message: dict[str, Any] | None = None,
        block_id: str = "actions",
        trigger_id: str | None = None,
        text: str | None = None,
    ) -> Reply:
        """A ``block_actions`` payload for a button click on a (non-ephemeral) message."""
        if message is None:
            message = {
                "type": "message",
                "text": "",
                "user": self.bot_user_id,
                "ts": self._now_ts(),
            }
            if self.api is not None:
                message["bot_id"] = self.api.bot_id
        message_ts = str(message.get("ts") or self._now_ts())
        action = payloads.button_action(
            action_id=action_id,
            block_id=block_id,
            value=value,
            text=text if text is not None else action_id,
            action_ts=self._now_ts(),
        )
        payload = payloads.block_actions(
            self._app,
            user=self._user(user),
            channel=channel,
            message=message,
            message_ts=message_ts,
            action=action,
            trigger_id=trigger_id or self.new_trigger_id(),
            response_url=self._response_url("actions", channel=channel, user=user, message_ts=message_ts),
        )
        return self.post_payload(payload)

    def click_button(self, user: str, *, channel: str, ts: str, action_id: str) -> Reply:
        """Click the button ``action_id`` on a message the bot posted to the stand-in Slack."""
        if self.api is None:
            raise AssertionError("click_button needs SlackDriver(api=StandInSlack(...))")
        message = self.api.message(channel, ts)
        if message is None:
            known = [m["ts"] for m in self.api.messages_in(channel)]
            raise AssertionError(f"no message {ts} in {channel}; messages there: {known}")
        found = list(buttons(message.get("blocks") or []))
        for block_id, button in found:
            if button.get("action_id") == action_id:
                label = button.get("text", {}).get("text") if isinstance(button.get("text"), dict) else None
                value = button.get("value")
                return self.click(
                    user,
                    action_id=action_id,
                    value=str(value) if value is not None else None,
                    channel=channel if not channel.startswith(("U", "W")) else "D" + channel[1:],
                    message=message,
                    block_id=block_id,
                    text=label,
                )
        available = [b.get("action_id") for _, b in found]
        raise AssertionError(
            f"message {ts} in {channel} has no button with action_id {action_id!r}; available: {available}"
        )

    def submit_view(self, user: str, view: dict[str, Any], values: dict[str, dict[str, Any]]) -> Reply:
        """A ``view_submission`` payload; ``values`` maps block_id -> {action_id: simple value}."""
        view_id = f"V{self._next():08d}"
        view_hash = f"{int(self.clock())}.{secrets.token_hex(4)}"
        state = build_state(view.get("blocks") or [], values)
        submitted = payloads.submitted_view(self._app, view, view_id=view_id, view_hash=view_hash, state=state)
        payload = payloads.view_submission(
            self._app, user=self._user(user), view=submitted, trigger_id=self.new_trigger_id()
        )
        return self.post_payload(payload)

    # ------------------------------------------------------------------ events

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> Reply:
        inner = copy.deepcopy(event)
        inner.setdefault("event_ts", self._now_ts())
        if inner.get("type") == "message":
            inner.setdefault("ts", inner["event_ts"])
        wrapper = payloads.event_callback(
            self._app,
            inner,
            event_id=event_id or f"Ev{self._next():04d}{secrets.token_hex(3).upper()}",
            event_time=int(self.clock()),
        )
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
        if retry_reason is not None:
            headers["X-Slack-Retry-Reason"] = retry_reason
        return self.post_json(wrapper, extra_headers=headers)

    def react(
        self,
        user: str,
        name: str,
        *,
        channel: str,
        ts: str,
        item_user: str = "U0LEEWAY",
        event_id: str | None = None,
        retry_num: int | None = None,
    ) -> Reply:
        event = payloads.reaction_added(
            user=user, reaction=name, item_user=item_user, channel=channel, ts=ts, event_ts=self._now_ts()
        )
        return self.event(
            event,
            event_id=event_id,
            retry_num=retry_num,
            retry_reason="http_timeout" if retry_num is not None else None,
        )
