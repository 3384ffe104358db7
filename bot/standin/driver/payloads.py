"""Each kind of request Slack sends an app, as data: a slash command's form fields, a button
click's ``block_actions`` payload, a ``view_submission`` payload and an Events API callback.

These are pure: the driver hands in the IDs, names, URLs and times, in the order Slack would
make them.
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Installation",
    "block_actions",
    "button_action",
    "channel_name",
    "event_callback",
    "reaction_added",
    "slash_command",
    "submitted_view",
    "view_submission",
]


@dataclass(frozen=True)
class Installation:
    """The app and the workspace every request comes from."""

    team_id: str
    team_domain: str
    api_app_id: str
    verification_token: str
    bot_user_id: str

    def team(self) -> dict[str, Any]:
        return {"id": self.team_id, "domain": self.team_domain}

    def user(self, user: str, name: str) -> dict[str, Any]:
        return {"id": user, "username": name, "name": name, "team_id": self.team_id}


def channel_name(channel: str) -> str:
    """The ``channel_name`` Slack sends with a channel ID."""
    if channel.startswith("D"):
        return "directmessage"
    if channel.startswith("G"):
        return "privategroup"
    name = channel[1:].lstrip("0").lower()
    return name or channel.lower()


def slash_command(
    app: Installation,
    *,
    user: str,
    user_name: str,
    channel: str,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    return {
        "token": app.verification_token,
        "team_id": app.team_id,
        "team_domain": app.team_domain,
        "channel_id": channel,
        "channel_name": channel_name(channel),
        "user_id": user,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": app.api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def button_action(*, action_id: str, block_id: str, value: str | None, text: str, action_ts: str) -> dict[str, Any]:
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "type": "button",
        "action_ts": action_ts,
    }
    if value is not None:
        action["value"] = value
    return action


def block_actions(
    app: Installation,
    *,
    user: dict[str, Any],
    channel: str,
    message: dict[str, Any],
    message_ts: str,
    action: dict[str, Any],
    trigger_id: str,
    response_url: str,
) -> dict[str, Any]:
    """A click on a (non-ephemeral) message."""
    return {
        "type": "block_actions",
        "user": user,
        "api_app_id": app.api_app_id,
        "token": app.verification_token,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id,
        "team": app.team(),
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": channel_name(channel)},
        "message": copy.deepcopy(message),
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }


def submitted_view(
    app: Installation,
    view: dict[str, Any],
    *,
    view_id: str,
    view_hash: str,
    state: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """``view`` as Slack sends it back on submission: Slack's fields filled in where missing."""
    submitted = copy.deepcopy(view)
    submitted.setdefault("id", view_id)
    submitted.setdefault("team_id", app.team_id)
    submitted.setdefault("type", "modal")
    submitted.setdefault("private_metadata", "")
    submitted.setdefault("callback_id", "")
    submitted.setdefault("hash", view_hash)
    submitted.setdefault("app_id", app.api_app_id)
    submitted.setdefault("root_view_id", submitted["id"])
    submitted.setdefault("previous_view_id", None)
    submitted["state"] = {"values": state}
    return submitted


def view_submission(
    app: Installation, *, user: dict[str, Any], view: dict[str, Any], trigger_id: str
) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": app.team(),
        "user": user,
        "api_app_id": app.api_app_id,
        "token": app.verification_token,
        "trigger_id": trigger_id,
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def event_callback(app: Installation, event: dict[str, Any], *, event_id: str, event_time: int) -> dict[str, Any]:
    """The Events API wrapper around ``event``."""
    context = json.dumps({"et": str(event.get("type", "")), "tid": app.team_id, "aid": app.api_app_id})
    return {
        "token": app.verification_token,
        "team_id": app.team_id,
        "api_app_id": app.api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": app.team_id,
                "user_id": app.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + base64.urlsafe_b64encode(context.encode()).decode().rstrip("="),
    }


def reaction_added(*, user: str, reaction: str, item_user: str, channel: str, ts: str, event_ts: str) -> dict[str, Any]:
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": reaction,
        "item_user": item_user,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": event_ts,
    }
