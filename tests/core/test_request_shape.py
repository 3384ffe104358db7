"""What a signed request must carry to be Slack's, and whose code an escaping error came from."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from slack_bolt.request.payload_utils import is_workflow_step_save

from bot.outbox.transport import posted_at
from bot.request_shape import shape_problem
from bot.web import raised_in_leeway

CLICK: dict[str, Any] = {
    "type": "block_actions",
    "user": {"id": "U0BEN", "name": "ben"},
    "trigger_id": "1.2.3",
    "channel": {"id": "C0REQ"},
    "container": {"type": "message", "message_ts": "1.1"},
    "message": {"ts": "1.1"},
    "response_url": "https://hooks.slack.com/actions/T/1/x",
    "actions": [{"action_id": "approve", "value": "1"}],
}
FORM: dict[str, Any] = {
    "type": "view_submission",
    "user": {"id": "U0ANA"},
    "trigger_id": "1.2.3",
    "view": {
        "id": "V1",
        "type": "modal",
        "callback_id": "propose_form",
        "private_metadata": "",
        "state": {"values": {"amount": {"input": {"type": "plain_text_input", "value": "9"}}}},
    },
}
COMMAND = {"command": "/remedy", "user_id": "U0ANA", "trigger_id": "1.2.3", "text": ""}
EVENT = {"type": "event_callback", "event": {"type": "reaction_added", "item": {}}}
NOT_LEEWAYS_METADATA = "view.private_metadata is not what Leeway keeps there (a JSON object)"
NOT_INPUTS = "view.state.values['amount'] is not an object of objects"


def changed(body: dict[str, Any], path: str, value: Any = ...) -> dict[str, Any]:
    """`body` with the field at dotted `path` set to `value`, or removed (no value)."""
    changed = copy.deepcopy(body)
    *outer, last = path.split(".")
    inner = changed
    for key in outer:
        inner = inner[key]
    if value is ...:
        del inner[last]
    else:
        inner[last] = value
    return changed


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        # As Slack sends them.
        (CLICK, None),
        (FORM, None),
        (changed(FORM, "view.private_metadata", '{"channel": "C0GENERAL"}'), None),
        (changed(FORM, "view.callback_id", ""), None),
        (changed(CLICK, "channel"), None),  # a click in a modal names no channel
        (changed(CLICK, "response_url"), None),
        (changed(changed(FORM, "type", "view_closed"), "view.state"), None),  # closing submits nothing
        (COMMAND, None),
        (EVENT, None),
        ({"type": "url_verification", "challenge": "x"}, None),  # Bolt's to answer
        ({"ssl_check": "1", "token": "x"}, None),
        # Missing what every request of its kind carries.
        (changed(FORM, "view.type"), "view.type is missing"),
        (changed(FORM, "view.id", ""), "view.id is missing"),
        (changed(FORM, "view.callback_id"), "view.callback_id is missing"),
        (changed(FORM, "view.state"), "view.state is missing"),
        (changed(FORM, "view.state.values"), "view.state.values is missing"),
        (changed(FORM, "user"), "user is missing"),
        (changed(FORM, "view"), "view is missing"),
        (changed(CLICK, "user.id"), "user.id is missing"),
        (changed(CLICK, "actions"), "actions is missing"),
        (changed(CLICK, "trigger_id"), "trigger_id is missing"),
        (changed(CLICK, "actions", [{}]), "actions[0].action_id is missing"),
        (changed(COMMAND, "user_id"), "user_id is missing"),
        (changed(COMMAND, "trigger_id", ""), "trigger_id is missing"),
        (changed(EVENT, "event"), "event is missing"),
        (changed(EVENT, "event.type"), "event.type is missing"),
        # Of the wrong type.
        (changed(FORM, "view", "modal"), "view is not an object"),
        (changed(FORM, "view.type", 5), "view.type is not a string"),
        (changed(FORM, "view.private_metadata", 5), "view.private_metadata is not a string"),
        (changed(FORM, "view.private_metadata", "{"), NOT_LEEWAYS_METADATA),
        (changed(FORM, "view.private_metadata", "[]"), NOT_LEEWAYS_METADATA),
        (changed(FORM, "view.state.values", {"amount": "9"}), NOT_INPUTS),
        (changed(FORM, "view.state.values", {"amount": {"input": "9"}}), NOT_INPUTS),
        (changed(FORM, "user", "U0ANA"), "user is not an object"),
        (changed(CLICK, "actions", "approve"), "actions is not a list"),
        (changed(CLICK, "actions", ["approve"]), "actions[0] is not an object"),
        (changed(CLICK, "actions", [{"action_id": 5}]), "actions[0].action_id is not a string"),
        (changed(CLICK, "channel", "C0REQ"), "channel is not an object"),
        (changed(CLICK, "response_url", 5), "response_url is not a string"),
        (changed(CLICK, "user.id", 5), "user.id is not a string"),
        (changed(EVENT, "event", "reaction_added"), "event is not an object"),
        ({"type": 5}, "type is not a string"),
        ([1, 2], "the body is not an object"),
    ],
)
def test_shape_problem(body: Any, problem: str | None) -> None:
    assert shape_problem(body) == problem


def _bolt_error() -> Exception:
    try:
        is_workflow_step_save({"type": "view_submission", "view": {"callback_id": "propose_form"}})
    except KeyError as error:
        return error
    raise AssertionError("Bolt read a view without its type")


def _leeway_error() -> Exception:
    try:
        posted_at(None)  # type: ignore[arg-type]  # stands for a bug in Leeway's own code
    except AttributeError as error:
        return error
    raise AssertionError("posted_at read nothing")


def _raised_while_handling(first: Exception, then: Exception) -> Exception:
    try:
        try:
            raise first
        except Exception:
            raise then from None
    except Exception as error:
        error.__context__ = first
        return error


@pytest.mark.parametrize(
    ("error", "leeway"),
    [
        (_bolt_error(), False),  # Bolt choking on the payload: the sender's fault, not Leeway's
        (_leeway_error(), True),
        (_raised_while_handling(_leeway_error(), _bolt_error()), True),  # Bolt failing on Leeway's error
        (_raised_while_handling(_bolt_error(), _bolt_error()), False),
        (ValueError("raised here, in a test"), False),
    ],
)
def test_raised_in_leeway(error: Exception, leeway: bool) -> None:
    assert raised_in_leeway(error) is leeway
