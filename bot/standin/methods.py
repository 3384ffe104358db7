"""The Web API methods the stand-in acts on, as a table: :data:`HANDLERS` maps a method's name to
the function that changes the workspace and returns the rest of Slack's answer.

A method the spec allows but the table lacks answers ``{"ok": true}`` and changes nothing.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from bot.standin.workspace import Workspace, dm_channel

__all__ = ["HANDLERS", "ApiError", "Handler", "require_content"]

# A handler gets the call's arguments and returns the answer's fields besides ``ok``.
Handler = Callable[[Workspace, dict[str, Any]], dict[str, Any]]


class ApiError(Exception):
    """Raised inside a method handler to answer ``{"ok": false, "error": code}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def require_content(args: Mapping[str, Any]) -> None:
    if not (args.get("text") or args.get("blocks") or args.get("attachments")):
        raise ApiError("no_text")


def _require(args: Mapping[str, Any], *names: str) -> None:
    for name in names:
        if args.get(name) in (None, ""):
            raise ApiError(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] missing required field: {name}"]},
            )


def _require_view_type(method: str, view: Mapping[str, Any], kind: str) -> None:
    if view.get("type") != kind:
        raise ApiError(
            "invalid_arguments",
            response_metadata={"messages": [f"[ERROR] {method} needs a view of type '{kind}'"]},
        )


def _check_hash(args: Mapping[str, Any], current: Mapping[str, Any]) -> None:
    """A hash given with an update must be the view's current one (someone else changed it)."""
    if args.get("hash") and args["hash"] != current["hash"]:
        raise ApiError("hash_conflict")


# ---------------------------------------------------------------------- auth, users, conversations


def auth_test(workspace: Workspace, _args: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": f"https://{workspace.team_domain}.slack.com/",
        "team": "Leeway Stand-in",
        "user": workspace.users.get(workspace.bot_user_id, {}).get("name", "leeway"),
        "team_id": workspace.team_id,
        "user_id": workspace.bot_user_id,
        "bot_id": workspace.bot_id,
        "is_enterprise_install": False,
    }


def usergroups_users_list(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    group = args.get("usergroup")
    if group not in workspace.usergroups:
        raise ApiError("no_such_subteam")
    return {"users": list(workspace.usergroups[group])}


def users_info(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user = workspace.users.get(str(args.get("user", "")))
    if user is None:
        raise ApiError("user_not_found")
    return {"user": copy.deepcopy(user)}


def conversations_open(_workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    if args.get("channel"):
        return {"channel": {"id": str(args["channel"])}, "no_op": True, "already_open": True}
    users_arg = args.get("users")
    users = users_arg if isinstance(users_arg, list) else str(users_arg or "").split(",")
    users = [str(u).strip() for u in users if str(u).strip()]
    if not users:
        raise ApiError("users_list_not_supplied")
    if len(users) == 1:
        channel_id = dm_channel(users[0])
    else:
        digest = hashlib.sha1(",".join(sorted(users)).encode()).hexdigest()[:8].upper()
        channel_id = "G" + digest
    return {"channel": {"id": channel_id}, "no_op": False, "already_open": False}


# ---------------------------------------------------------------------- messages


def chat_post_message(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    _require(args, "channel")
    require_content(args)
    channel = dm_channel(str(args["channel"]))
    stored = workspace.store_message(channel, args)
    return {"channel": channel, "ts": stored["ts"], "message": copy.deepcopy(stored)}


def _named_message(workspace: Workspace, args: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The channel and the stored message a call's ``channel`` and ``ts`` name."""
    _require(args, "channel", "ts")
    channel = dm_channel(str(args["channel"]))
    stored = workspace.find_message(channel, str(args["ts"]))
    if stored is None:
        raise ApiError("message_not_found")
    return channel, stored


def chat_update(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    channel, stored = _named_message(workspace, args)
    for key in ("text", "blocks", "attachments", "metadata"):
        if key in args:
            stored[key] = copy.deepcopy(args[key])
    stored["edited"] = {"user": workspace.bot_user_id, "ts": workspace.new_ts()}
    return {
        "channel": channel,
        "ts": stored["ts"],
        "text": stored.get("text", ""),
        "message": copy.deepcopy(stored),
    }


def chat_post_ephemeral(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    _require(args, "channel", "user")
    require_content(args)
    entry = workspace.store_ephemeral(dm_channel(str(args["channel"])), str(args["user"]), args)
    return {"message_ts": entry["message_ts"]}


def chat_delete(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    channel, stored = _named_message(workspace, args)
    workspace.channels[channel].remove(stored)
    return {"channel": channel, "ts": stored["ts"]}


# ---------------------------------------------------------------------- views


def views_open(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    _require(args, "trigger_id", "view")
    view = args["view"]
    _require_view_type("views.open", view, "modal")
    stored = workspace.store_view(view)
    workspace.opened.append(stored["id"])
    return {"view": copy.deepcopy(stored)}


def views_push(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    _require(args, "trigger_id", "view")
    previous = workspace.views[workspace.opened[-1]] if workspace.opened else None
    stored = workspace.store_view(args["view"])
    if previous is not None:
        stored["root_view_id"] = previous["root_view_id"]
        stored["previous_view_id"] = previous["id"]
    workspace.opened.append(stored["id"])
    return {"view": copy.deepcopy(stored)}


def views_update(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    _require(args, "view")
    view_id = args.get("view_id")
    if not view_id and args.get("external_id"):
        view_id = next((vid for vid, v in workspace.views.items() if v.get("external_id") == args["external_id"]), None)
    if not view_id or view_id not in workspace.views:
        raise ApiError("not_found")
    previous = workspace.views[view_id]
    _check_hash(args, previous)
    stored = workspace.store_view(args["view"], view_id=view_id, previous=previous)
    return {"view": copy.deepcopy(stored)}


def views_publish(workspace: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    _require(args, "user_id", "view")
    view = args["view"]
    _require_view_type("views.publish", view, "home")
    user_id = str(args["user_id"])
    previous_id = workspace.home.get(user_id)
    if previous_id is not None:
        _check_hash(args, workspace.views[previous_id])
    stored = workspace.store_view(view, view_id=previous_id)
    workspace.home[user_id] = stored["id"]
    return {"view": copy.deepcopy(stored)}


HANDLERS: Mapping[str, Handler] = {
    "auth.test": auth_test,
    "chat.delete": chat_delete,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "conversations.open": conversations_open,
    "usergroups.users.list": usergroups_users_list,
    "users.info": users_info,
    "views.open": views_open,
    "views.publish": views_publish,
    "views.push": views_push,
    "views.update": views_update,
}
