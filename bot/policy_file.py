"""Read the policy file, and say exactly which key on which line is wrong."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.constructor import SafeConstructor

from bot.core.policy import Policy


class PolicyError(Exception):
    pass


Location = tuple[str | int, ...]

# A policy is a few hundred values; YAML aliases can make a short file expand without bound.
MAX_VALUES = 100_000


def load_policy(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(
            f"No policy file at {path}. Copy bot/policy.example.yml there (or point LEEWAY_POLICY "
            "at yours) and fill in your channel and user IDs."
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(f"Can't read the policy file {path}: {error}") from None
    return parse_policy(text, source=str(path))


def parse_policy(text: str, *, source: str = "policy") -> Policy:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
        if context and context_mark is not None:
            problem = f"{context.removeprefix('while parsing ')} started on line {context_mark.line + 1}: {problem}"
        raise PolicyError(f"{source}{where}: not valid YAML ({problem})") from None
    if node is None:
        raise PolicyError(f"{source}: the policy file is empty")
    lines: dict[Location, int] = {}
    try:
        data = _Reader(lines).plain(node, ())
    except PolicyError as error:
        raise PolicyError(f"{source} {error}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{source} line 1: the policy must be a mapping with currency, channels, people, remedies")
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        raise PolicyError("\n".join(_describe(e, lines, source, text) for e in error.errors())) from None


def webhook_secrets(policy: Policy, environ: Mapping[str, str], *, source: str = "policy") -> dict[str, str]:
    """Each webhook's signing secret, by its endpoint's key, read from the environment variable
    its `secret_env` names. One set but empty counts as missing: an endpoint would get events
    signed with nothing, which its receiver must refuse."""
    secrets, missing = {}, []
    for n, webhook in enumerate(policy.webhooks):
        secret = environ.get(webhook.secret_env, "").strip()
        if secret:
            secrets[webhook.key] = secret
        else:
            missing.append(
                f"{source}: webhooks[{n}].secret_env: {webhook.secret_env} is not set (or empty): set it to "
                f"the signing secret the receiver at {webhook.host} checks Leeway-Signature with"
            )
    if missing:
        raise PolicyError("\n".join(missing))
    return secrets


class _Reader:
    """YAML node → plain data, remembering the line of every key and item."""

    def __init__(self, lines: dict[Location, int]) -> None:
        self.lines = lines
        self.values = 0
        self.scalars = SafeConstructor()

    def plain(self, node: yaml.Node, loc: Location) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise PolicyError(
                f"line 1: the policy file is too large once its aliases are expanded (over {MAX_VALUES:,} values)"
            )
        self.lines[loc] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if key in out:
                    where = ".".join(str(part) for part in (*loc, key))
                    raise PolicyError(f"line {key_node.start_mark.line + 1}: {where} is given twice")
                self.lines[(*loc, key)] = key_node.start_mark.line + 1
                out[key] = self.plain(value_node, (*loc, key))
                self.lines[(*loc, key)] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.plain(item, (*loc, i)) for i, item in enumerate(node.value)]
        # Scalars: let YAML resolve numbers, booleans and empty values, but keep IDs as written.
        return self.scalars.construct_object(node)


def _describe(error: Any, lines: dict[Location, int], source: str, text: str) -> str:
    loc: Location = tuple(error["loc"])
    # Pydantic may point inside a value (e.g. a tuple index); find the nearest known line.
    probe = loc
    while probe and probe not in lines:
        probe = probe[:-1]
    line = lines.get(probe, 1)
    key = _dotted(loc) or "policy"
    if loc[:1] == ("channels",) and _names_a_channel(error.get("input"), text, line):
        message = "use the channel ID (C…), not its name (in Slack: channel details → About → Channel ID)"
    elif error["type"] == "extra_forbidden":
        message = f"unknown key '{loc[-1]}'"
    elif error["type"] == "missing":
        message = "is missing"
    elif error.get("input", "") is None:
        message = "is empty"
    else:
        message = str(error["msg"]).removeprefix("Value error, ")
        # A rule across several keys names the offending key first: point at its line.
        for word in re.findall(r"[a-z_]+", message):
            if (*loc, word) in lines:
                line, key = lines[(*loc, word)], _dotted((*loc, word))
                break
    return f"{source} line {line}: {key}: {message}"


def _names_a_channel(value: Any, text: str, line: int) -> bool:
    """`#kudos` written as a channel: quoted, it is the name; bare, YAML reads it as a comment."""
    if isinstance(value, str):
        return value.startswith("#")
    written = text.splitlines()[line - 1] if 0 < line <= len(text.splitlines()) else ""
    return value is None and re.search(r":\s+#", written) is not None


def _dotted(loc: Location) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
