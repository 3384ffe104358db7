"""Finding elements in Block Kit blocks, with the IDs Slack gives those that lack one."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any

__all__ = ["block_id_of", "buttons", "generated_id"]


def generated_id(thing: Any) -> str:
    """Slack fills in a missing block_id / action_id with a short random id; ours is stable."""
    digest = hashlib.sha1(json.dumps(thing, sort_keys=True, default=str).encode()).digest()
    return base64.b32encode(digest).decode()[:5]


def block_id_of(block: dict[str, Any]) -> str:
    return str(block.get("block_id") or generated_id(block))


def buttons(blocks: list[Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(block_id, element) for every button in actions blocks and section accessories."""
    for block in blocks:
        if not isinstance(block, dict):
            continue
        block_id = block_id_of(block)
        candidates: list[Any] = []
        if block.get("type") == "actions":
            candidates.extend(block.get("elements") or [])
        accessory = block.get("accessory")
        if accessory is not None:
            candidates.append(accessory)
        for element in candidates:
            if isinstance(element, dict) and element.get("type") == "button":
                yield block_id, element
