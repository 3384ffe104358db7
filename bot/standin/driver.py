"""Drives the bot's HTTP endpoint exactly as Slack would: signed slash commands, interactivity
payloads (button clicks, view submissions) and Events API callbacks.

Only ``urllib.request`` is used for HTTP.  4xx/5xx answers are returned as :class:`Reply`, never
raised; connection failures do raise (the bot is not listening).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bot.standin.slack_api import StandInSlack

__all__ = ["Reply", "SlackDriver", "sign"]

TIMEOUT_SECONDS = 10.0
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"

# element type -> (key in view state, key holding the element's initial value, how values are shaped)
_STATE_SHAPES: dict[str, tuple[str, str, str]] = {
    "plain_text_input": ("value", "initial_value", "text"),
    "number_input": ("value", "initial_value", "text"),
    "email_text_input": ("value", "initial_value", "text"),
    "url_text_input": ("value", "initial_value", "text"),
    "static_select": ("selected_option", "initial_option", "option"),
    "external_select": ("selected_option", "initial_option", "option"),
    "radio_buttons": ("selected_option", "initial_option", "option"),
    "multi_static_select": ("selected_options", "initial_options", "options"),
    "multi_external_select": ("selected_options", "initial_options", "options"),
    "checkboxes": ("selected_options", "initial_options", "options"),
    "users_select": ("selected_user", "initial_user", "plain"),
    "multi_users_select": ("selected_users", "initial_users", "list"),
    "conversations_select": ("selected_conversation", "initial_conversation", "plain"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations", "list"),
    "channels_select": ("selected_channel", "initial_channel", "plain"),
    "multi_channels_select": ("selected_channels", "initial_channels", "list"),
    "datepicker": ("selected_date", "initial_date", "plain"),
    "timepicker": ("selected_time", "initial_time", "plain"),
    "datetimepicker": ("selected_date_time", "initial_date_time", "plain"),
    "rich_text_input": ("rich_text_value", "initial_value", "plain"),
}


def sign(signing_secret: str, timestamp: int | str, body: bytes) -> str:
    """Slack's request signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def _generated_id(thing: Any) -> str:
    """Slack fills in a missing block_id / action_id with a short random id; ours is stable."""
    digest = hashlib.sha1(json.dumps(thing, sort_keys=True, default=str).encode()).digest()
    return base64.b32encode(digest).decode()[:5]


@dataclass(frozen=True)
class Reply:
    """The bot's answer to one request.  Header names are lower-cased."""

    status: int
    body: str
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else {}


class SlackDriver:
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
        self.bot_url = bot_url
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.api_app_id = api_app_id
        self.api = api
        self.clock = clock
        self.bot_user_id = bot_user_id or (api.bot_user_id if api is not None else "U0LEEWAY")
        self.team_domain = team_domain
        self.verification_token = verification_token
        self._counter: Iterator[int] = itertools.count(1)
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # ------------------------------------------------------------------ primitive

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Reply:
        """A raw signed POST.  Pass ``signature`` to forge one, ``timestamp`` to send a stale one."""
        ts = int(self.clock()) if timestamp is None else timestamp
        headers = {
            "Content-Type": content_type,
            "User-Agent": USER_AGENT,
            "Accept": "application/json,*/*",
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature if signature is not None else sign(self.signing_secret, ts, body),
        }
        headers.update(extra_headers or {})
        request = urllib.request.Request(self.bot_url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                return Reply(
                    status=response.status,
                    body=response.read().decode("utf-8", "replace"),
                    headers={k.lower(): v for k, v in response.headers.items()},
                )
        except urllib.error.HTTPError as error:
            with error:
                raw = error.read()
                return Reply(
                    status=error.code,
                    body=raw.decode("utf-8", "replace"),
                    headers={k.lower(): v for k, v in (error.headers or {}).items()},
                )

    def post_form(self, fields: dict[str, str], **kwargs: Any) -> Reply:
        return self.post(urlencode(fields).encode(), "application/x-www-form-urlencoded", **kwargs)

    def post_payload(self, payload: dict[str, Any], **kwargs: Any) -> Reply:
        """An interactivity request: form-encoded ``payload=<json>``."""
        return self.post_form({"payload": json.dumps(payload)}, **kwargs)

    def post_json(self, document: dict[str, Any], **kwargs: Any) -> Reply:
        return self.post(json.dumps(document).encode(), "application/json", **kwargs)

    # ------------------------------------------------------------------ helpers

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
        name = self._user_name(user)
        return {"id": user, "username": name, "name": name, "team_id": self.team_id}

    def _team(self) -> dict[str, Any]:
        return {"id": self.team_id, "domain": self.team_domain}

    @staticmethod
    def _channel_name(channel: str) -> str:
        if channel.startswith("D"):
            return "directmessage"
        if channel.startswith("G"):
            return "privategroup"
        name = channel[1:].lstrip("0").lower()
        return name or channel.lower()

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
        fields = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel,
            "channel_name": self._channel_name(channel),
            "user_id": user,
            "user_name": user_name if user_name is not None else self._user_name(user),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self._response_url("commands", channel=channel, user=user),
            "trigger_id": trigger_id or self.new_trigger_id(),
        }
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
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "text": {"type": "plain_text", "text": text if text is not None else action_id, "emoji": True},
            "type": "button",
            "action_ts": self._now_ts(),
        }
        if value is not None:
            action["value"] = value
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "trigger_id": trigger_id or self.new_trigger_id(),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": self._channel_name(channel)},
            "message": copy.deepcopy(message),
            "state": {"values": {}},
            "response_url": self._response_url("actions", channel=channel, user=user, message_ts=message_ts),
            "actions": [action],
        }
        return self.post_payload(payload)

    def click_button(self, user: str, *, channel: str, ts: str, action_id: str) -> Reply:
        """Click the button ``action_id`` on a message the bot posted to the stand-in Slack."""
        if self.api is None:
            raise AssertionError("click_button needs SlackDriver(api=StandInSlack(...))")
        message = self.api.message(channel, ts)
        if message is None:
            known = [m["ts"] for m in self.api.messages_in(channel)]
            raise AssertionError(f"no message {ts} in {channel}; messages there: {known}")
        buttons = list(_buttons(message.get("blocks") or []))
        for block_id, button in buttons:
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
        available = [b.get("action_id") for _, b in buttons]
        raise AssertionError(
            f"message {ts} in {channel} has no button with action_id {action_id!r}; available: {available}"
        )

    def submit_view(self, user: str, view: dict[str, Any], values: dict[str, dict[str, Any]]) -> Reply:
        """A ``view_submission`` payload; ``values`` maps block_id -> {action_id: simple value}."""
        submitted = copy.deepcopy(view)
        submitted.setdefault("id", f"V{self._next():08d}")
        submitted.setdefault("team_id", self.team_id)
        submitted.setdefault("type", "modal")
        submitted.setdefault("private_metadata", "")
        submitted.setdefault("callback_id", "")
        submitted.setdefault("hash", f"{int(self.clock())}.{secrets.token_hex(4)}")
        submitted.setdefault("app_id", self.api_app_id)
        submitted.setdefault("root_view_id", submitted["id"])
        submitted.setdefault("previous_view_id", None)
        submitted["state"] = {"values": build_state(view.get("blocks") or [], values)}
        payload: dict[str, Any] = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": self.new_trigger_id(),
            "view": submitted,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
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
        context = json.dumps({"et": str(inner.get("type", "")), "tid": self.team_id, "aid": self.api_app_id})
        wrapper: dict[str, Any] = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": inner,
            "type": "event_callback",
            "event_id": event_id or f"Ev{self._next():04d}{secrets.token_hex(3).upper()}",
            "event_time": int(self.clock()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + base64.urlsafe_b64encode(context.encode()).decode().rstrip("="),
        }
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
        event = {
            "type": "reaction_added",
            "user": user,
            "reaction": name,
            "item_user": item_user,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": self._now_ts(),
        }
        return self.event(
            event,
            event_id=event_id,
            retry_num=retry_num,
            retry_reason="http_timeout" if retry_num is not None else None,
        )


def _buttons(blocks: list[Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(block_id, element) for every button in actions blocks and section accessories."""
    for block in blocks:
        if not isinstance(block, dict):
            continue
        block_id = str(block.get("block_id") or _generated_id(block))
        candidates: list[Any] = []
        if block.get("type") == "actions":
            candidates.extend(block.get("elements") or [])
        accessory = block.get("accessory")
        if accessory is not None:
            candidates.append(accessory)
        for element in candidates:
            if isinstance(element, dict) and element.get("type") == "button":
                yield block_id, element


def _stateful_elements(blocks: list[Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(block_id, action_id, element) for every element whose value appears in a view's state."""
    for block in blocks:
        if not isinstance(block, dict):
            continue
        block_id = str(block.get("block_id") or _generated_id(block))
        kind = block.get("type")
        elements: list[Any] = []
        if kind == "input":
            elements.append(block.get("element"))
        elif kind == "actions":
            elements.extend(block.get("elements") or [])
        elif kind == "section" and block.get("accessory") is not None:
            elements.append(block["accessory"])
        for element in elements:
            if isinstance(element, dict) and element.get("type") in _STATE_SHAPES:
                yield block_id, str(element.get("action_id") or _generated_id(element)), element


def _all_options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = [o for o in element.get("options") or [] if isinstance(o, dict)]
    for group in element.get("option_groups") or []:
        if isinstance(group, dict):
            options.extend(o for o in group.get("options") or [] if isinstance(o, dict))
    return options


def _option_for(element: dict[str, Any], where: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return copy.deepcopy(value)
    options = _all_options(element)
    if not options:  # external_select: options come from the app, anything goes
        return {"text": {"type": "plain_text", "text": str(value), "emoji": True}, "value": str(value)}
    for option in options:
        if option.get("value") == str(value):
            return copy.deepcopy(option)
    raise AssertionError(f"{where}: no option with value {value!r}; options: {[o.get('value') for o in options]}")


def _state_entry(element: dict[str, Any], where: str, given: bool, value: Any) -> dict[str, Any]:
    element_type = str(element["type"])
    state_key, initial_key, shape = _STATE_SHAPES[element_type]
    entry: dict[str, Any] = {"type": element_type}
    if not given:
        initial = element.get(initial_key)
        if initial is None:
            entry[state_key] = [] if shape in ("options", "list") else None
        else:
            entry[state_key] = copy.deepcopy(initial)
        return entry
    if value is None:
        entry[state_key] = [] if shape in ("options", "list") else None
    elif shape == "text":
        entry[state_key] = str(value)
    elif shape == "option":
        entry[state_key] = _option_for(element, where, value)
    elif shape == "options":
        items = value if isinstance(value, list | tuple) else [value]
        entry[state_key] = [_option_for(element, where, item) for item in items]
    elif shape == "list":
        entry[state_key] = list(value) if isinstance(value, list | tuple) else [value]
    else:
        entry[state_key] = value
    return entry


def build_state(blocks: list[Any], values: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Slack's ``view.state.values`` for ``blocks`` given block_id -> {action_id: simple value}.

    Elements the caller leaves out keep their initial value (``None`` / ``[]`` when there is none),
    as they would if the user did not touch them.
    """
    state: dict[str, dict[str, Any]] = {}
    seen: set[tuple[str, str]] = set()
    for block_id, action_id, element in _stateful_elements(blocks):
        given_block = values.get(block_id, {})
        given = action_id in given_block
        where = f"block {block_id!r} action {action_id!r}"
        state.setdefault(block_id, {})[action_id] = _state_entry(element, where, given, given_block.get(action_id))
        seen.add((block_id, action_id))
    unknown = [(b, a) for b, actions in values.items() for a in actions if (b, a) not in seen]
    if unknown:
        raise AssertionError(f"values for elements not in the view: {unknown}; the view has: {sorted(seen)}")
    return state
