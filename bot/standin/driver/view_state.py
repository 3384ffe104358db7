"""A view's ``state.values`` as Slack submits it, built from simple values a test gives.

Each kind of input element keeps its value under its own key and in its own shape (text, an
option, a list of options, a plain ID...); :data:`STATE_SHAPES` is that table.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from bot.standin.driver.blocks import block_id_of, generated_id

__all__ = ["STATE_SHAPES", "build_state"]

# element type -> (key in view state, key holding the element's initial value, how values are shaped)
STATE_SHAPES: dict[str, tuple[str, str, str]] = {
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


def _stateful_elements(blocks: list[Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(block_id, action_id, element) for every element whose value appears in a view's state."""
    for block in blocks:
        if not isinstance(block, dict):
            continue
        block_id = block_id_of(block)
        kind = block.get("type")
        elements: list[Any] = []
        if kind == "input":
            elements.append(block.get("element"))
        elif kind == "actions":
            elements.extend(block.get("elements") or [])
        elif kind == "section" and block.get("accessory") is not None:
            elements.append(block["accessory"])
        for element in elements:
            if isinstance(element, dict) and element.get("type") in STATE_SHAPES:
                yield block_id, str(element.get("action_id") or generated_id(element)), element


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
    state_key, initial_key, shape = STATE_SHAPES[element_type]
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
