"""What a post to a response URL does, when the URL is bound to where its interaction happened.

``delete_original`` deletes the message, ``replace_original`` replaces its content,
``response_type: in_channel`` posts a new message in the channel, and anything else posts an
ephemeral message to the user who acted.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from bot.standin.methods import ApiError, require_content
from bot.standin.workspace import ResponseTarget, Workspace

__all__ = ["apply_response"]


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return bool(value)


def apply_response(workspace: Workspace, target: ResponseTarget, body: Mapping[str, Any]) -> None:
    original = (
        workspace.find_message(target.channel, target.message_ts)
        if target.channel is not None and target.message_ts is not None
        else None
    )
    if _truthy(body.get("delete_original")):
        if original is None or target.channel is None:
            raise ApiError("message_not_found")
        workspace.channels[target.channel].remove(original)
        return
    require_content(body)
    if _truthy(body.get("replace_original")) and original is not None:
        original["text"] = body.get("text", "")
        for key in ("blocks", "attachments"):
            if key in body:
                original[key] = copy.deepcopy(body[key])
            else:
                original.pop(key, None)
        return
    if target.channel is None:
        return
    if body.get("response_type") == "in_channel":
        workspace.store_message(target.channel, body)
    elif target.user is not None:
        workspace.store_ephemeral(target.channel, target.user, body)
