"""What every Slack request of its kind carries, checked before Bolt or a listener reads it.

Slack always sends these fields, with these types. A signed request without them was not sent by
Slack as it is (a broken proxy, a leaked signing secret), and gets a 400 instead of failing
somewhere inside Bolt or a listener.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# Interactive payloads that come from a person, and so name them.
FROM_A_PERSON = frozenset(
    {"block_actions", "view_submission", "view_closed", "shortcut", "message_action", "block_suggestion"}
)
_A: dict[type, str] = {str: "a string", dict: "an object", list: "a list"}


def shape_problem(body: object) -> str | None:
    """What is missing or of the wrong type in a parsed request body; None if nothing is.
    Kinds Leeway doesn't know (url_verification, ssl_check, …) are left to Bolt."""
    if not isinstance(body, Mapping):
        return "the body is not an object"
    if "command" in body:  # a slash command's form fields
        return _wrong(body, "", command=str, user_id=str, trigger_id=str)
    kind = body.get("type")
    if kind is None:
        return None
    if not isinstance(kind, str):
        return "type is not a string"
    if kind == "event_callback":
        return _wrong(body, "", event=dict) or _wrong(body["event"], "event.", type=str)
    if kind not in FROM_A_PERSON:
        return None
    problem = _wrong(body, "", user=dict) or _wrong(body["user"], "user.", id=str)
    if problem is None and kind == "block_actions":
        problem = _actions(body)
    if problem is None and kind in ("view_submission", "view_closed"):
        problem = _wrong(body, "", view=dict) or _view(body["view"], submitted=kind == "view_submission")
    return problem


def _actions(body: Mapping[str, Any]) -> str | None:
    problem = _wrong(body, "", actions=list, trigger_id=str) or _wrong(
        body, "", optional=True, channel=dict, container=dict, message=dict, view=dict, response_url=str
    )
    if problem is not None:
        return problem
    for n, action in enumerate(body["actions"]):
        if not isinstance(action, dict):
            return f"actions[{n}] is not an object"
        problem = _wrong(action, f"actions[{n}].", action_id=str)
        if problem is not None:
            return problem
    return None


def _view(view: Mapping[str, Any], *, submitted: bool) -> str | None:
    problem = _wrong(view, "view.", id=str, type=str) or _wrong(view, "view.", optional=True, private_metadata=str)
    if problem is None and not isinstance(view.get("callback_id"), str):  # always there, if maybe empty
        problem = "view.callback_id is missing"
    if problem is None and not _json_object(view.get("private_metadata") or "{}"):
        problem = "view.private_metadata is not what Leeway keeps there (a JSON object)"
    if problem is not None or not submitted:
        return problem
    problem = _wrong(view, "view.", state=dict) or _wrong(view["state"], "view.state.", values=dict)
    if problem is not None:
        return problem
    for block, inputs in view["state"]["values"].items():
        if not isinstance(inputs, dict) or not all(isinstance(v, dict) for v in inputs.values()):
            return f"view.state.values[{block[:40]!r}] is not an object of objects"
    return None


def _json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _wrong(obj: Mapping[str, Any], where: str, *, optional: bool = False, **kinds: type) -> str | None:
    """The first of `kinds` that `obj` lacks (an empty string counts as lacking, and is fine
    when `optional`) or holds as another type."""
    for name, kind in kinds.items():
        value = obj.get(name)
        if value is None or value == "":
            if optional:
                continue
            return f"{where}{name} is missing"
        if not isinstance(value, kind):
            return f"{where}{name} is not {_A[kind]}"
    return None
