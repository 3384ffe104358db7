"""What the stand-in Slack saw: every call it answered, and the violations and warnings it found.

Tests read the log through :class:`bot.standin.StandInSlack`; the log itself does not lock (the
stand-in holds its one lock around every use).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ApiCall", "CallLog", "matches", "short"]

RECENT_CALLS_IN_DUMP = 20


@dataclass(frozen=True)
class ApiCall:
    """One request the stand-in received."""

    method: str  # e.g. "chat.postMessage", or "response_url" for posts to a response URL
    args: dict[str, Any]  # merged query + form + JSON body args (the token is not included)
    status: int  # HTTP status answered
    response: dict[str, Any]
    at: float  # time.monotonic() when received

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        error = self.response.get("error")
        return error if isinstance(error, str) else None


def matches(args: Mapping[str, Any], match: Mapping[str, Any]) -> bool:
    """Whether ``args`` has every key of ``match`` with an equal value."""
    return all(key in args and args[key] == value for key, value in match.items())


def short(value: Any, limit: int = 120) -> str:
    """A value as shown in a violation or a dump, cut to ``limit`` characters."""
    text = json.dumps(value, default=str, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class CallLog:
    """Calls in the order received; violations (fail a test) and warnings (worth a look)."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.calls: list[ApiCall] = []
        self.violations: list[str] = []
        self.warnings: list[str] = []

    def record(self, method: str, args: dict[str, Any], status: int, response: dict[str, Any], at: float) -> None:
        """Stored as copies, so nothing done later to the arguments or the answer changes the log."""
        self.calls.append(
            ApiCall(method=method, args=copy.deepcopy(args), status=status, response=copy.deepcopy(response), at=at)
        )

    def warn(self, warning: str) -> None:
        """A warning is listed once, however often it recurs."""
        if warning not in self.warnings:
            self.warnings.append(warning)

    def calls_to(self, method: str, match: Mapping[str, Any]) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method and matches(call.args, match)]

    def dump(self, last: int = RECENT_CALLS_IN_DUMP) -> str:
        """A readable listing of the most recent calls, violations and warnings."""
        calls = self.calls[-last:]
        skipped = len(self.calls) - len(calls)
        lines = [f"recent calls ({len(calls)} shown, {skipped} earlier):" if calls else "no calls recorded"]
        for call in calls:
            outcome = "ok" if call.ok else f"error={call.error}"
            lines.append(f"  {call.method} -> {call.status} {outcome} args={short(call.args, 400)}")
        if self.violations:
            lines.append("violations:")
            lines.extend(f"  {v}" for v in self.violations)
        if self.warnings:
            lines.append("warnings:")
            lines.extend(f"  {w}" for w in self.warnings)
        return "\n".join(lines)
