"""Checking a call against Slack's Web API OpenAPI description (in ``../shared/slack/web-api/``).

A call to a method the description does not know, without a required argument, or with an
argument of the wrong type is a violation; an argument the description does not list is only a
warning (the description predates some arguments the SDK sends).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.standin.calls import short

__all__ = ["DESCRIBED", "EXTRA_METHODS", "JSON_ARGS", "Param", "Spec", "SpecCheck", "decode_json_args"]

# Arguments Slack takes as JSON documents.  In a form-encoded request they arrive as JSON strings
# (the OpenAPI description types them "string"); slack_sdk sends them as objects in a JSON body.
JSON_ARGS = frozenset({"blocks", "attachments", "view", "metadata"})

# Methods newer than the OpenAPI description, and not described here; allowed without argument checks.
EXTRA_METHODS = frozenset({"apps.connections.open"})

_INT_RE = re.compile(r"^-?\d+$")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    required: bool


# Methods newer than the OpenAPI description, described here from Slack's reference
# (docs.slack.dev/reference/methods/<method>) and checked like the others. `files` is a JSON
# array, sent as a string in a form or query (as slack_sdk does).
DESCRIBED: Mapping[str, Mapping[str, Param]] = {
    "files.getUploadURLExternal": {
        "filename": Param("filename", "string", required=True),
        "length": Param("length", "integer", required=True),
        "alt_txt": Param("alt_txt", "string", required=False),
        "snippet_type": Param("snippet_type", "string", required=False),
    },
    "files.completeUploadExternal": {
        "files": Param("files", "string", required=True),
        "channel_id": Param("channel_id", "string", required=False),
        "channels": Param("channels", "string", required=False),
        "initial_comment": Param("initial_comment", "string", required=False),
        "thread_ts": Param("thread_ts", "string", required=False),
        "blocks": Param("blocks", "string", required=False),
    },
}


@dataclass
class SpecCheck:
    """What checking one call found: ``known`` is False for a method the description lacks."""

    known: bool = True
    problems: list[str] = field(default_factory=list)  # violations
    warnings: list[str] = field(default_factory=list)


class Spec:
    """Each method's parameters, as the OpenAPI description declares them."""

    def __init__(self, methods: Mapping[str, Mapping[str, Param]]) -> None:
        self.methods = {**DESCRIBED, **methods}

    @classmethod
    def load(cls, path: Path) -> Spec:
        document = json.loads(path.read_text(encoding="utf-8"))
        methods: dict[str, dict[str, Param]] = {}
        for route, operations in document.get("paths", {}).items():
            name = route.lstrip("/")
            params: dict[str, Param] = {}
            for operation in operations.values():
                if not isinstance(operation, dict):
                    continue
                for raw in operation.get("parameters", []):
                    if "name" not in raw:
                        continue
                    params[raw["name"]] = Param(
                        name=raw["name"], type=str(raw.get("type", "string")), required=bool(raw.get("required"))
                    )
            methods[name] = params
        return cls(methods)

    def check(self, method: str, args: Mapping[str, Any]) -> SpecCheck:
        if method in EXTRA_METHODS:
            return SpecCheck()
        params = self.methods.get(method)
        if params is None:
            return SpecCheck(known=False)
        found = SpecCheck()
        for param in params.values():
            # The description lists ``token`` as required; the SDK sends it as a Bearer header.
            if param.name == "token":
                continue
            if param.required and param.name not in args:
                found.problems.append(f"{method}: missing required argument '{param.name}'")
        for name, value in args.items():
            declared = params.get(name)
            if declared is None:
                found.warnings.append(f"{method}: unknown argument '{name}'")
            elif not type_ok(declared, value):
                found.problems.append(f"{method}: argument '{name}' should be {declared.type}, got {short(value)}")
        return found


def type_ok(param: Param, value: Any) -> bool:
    """Whether ``value`` can stand for ``param``'s declared type, in a JSON or a form-encoded call."""
    kind = param.type
    if kind == "boolean":
        if isinstance(value, bool):
            return True
        if isinstance(value, int):
            return value in (0, 1)
        return isinstance(value, str) and value in ("true", "false", "1", "0")
    if kind == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        return isinstance(value, str) and bool(_INT_RE.match(value))
    if kind == "number":
        if isinstance(value, bool):
            return False
        if isinstance(value, int | float):
            return math.isfinite(value)
        if isinstance(value, str):
            try:
                return math.isfinite(float(value))
            except ValueError:
                return False
        return False
    if kind == "string":
        if isinstance(value, str):
            return True
        if isinstance(value, list | dict):
            return param.name in JSON_ARGS
        # Scalars: a form-encoded request would carry them as strings anyway, and slack_sdk sends
        # e.g. chat.update's ``link_names`` / ``as_user`` (typed "string" in the description) as JSON
        # booleans.  Accept them so real SDK calls do not count as violations.
        return isinstance(value, bool | int | float)
    return True


def decode_json_args(method: str, args: dict[str, Any]) -> list[str]:
    """Decode the JSON arguments sent as strings, in place; the problems with their shape."""
    problems: list[str] = []
    for name in JSON_ARGS:
        value = args.get(name)
        if not isinstance(value, str):
            continue
        try:
            decoded = json.loads(value)
        except ValueError:
            if value.strip():
                problems.append(f"{method}: argument '{name}' is not valid JSON: {short(value)}")
            continue
        if isinstance(decoded, list | dict):
            args[name] = decoded
    blocks = args.get("blocks")
    if blocks is not None and not (
        isinstance(blocks, list) and all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks)
    ):
        problems.append(f"{method}: argument 'blocks' must be a list of block objects, got {short(blocks)}")
    view = args.get("view")
    if view is not None and not (isinstance(view, dict) and isinstance(view.get("type"), str)):
        problems.append(f"{method}: argument 'view' must be a view object with a type, got {short(view)}")
    return problems
