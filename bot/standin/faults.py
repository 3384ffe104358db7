"""Failures a test switches on: an error answer, a 429 with ``Retry-After``, a call held in flight
(before Slack carries it out, or after, with only its answer held), an answer lost after the call
took effect.

Each applies to the next call(s) to one method whose arguments match, in the order switched on.
:class:`Faults` does not lock; the stand-in holds its one lock around every use.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.standin.calls import matches
from bot.standin.server import Answer

__all__ = ["Faults", "Hold"]

# A held call is let on after this long even if the test never releases it.
HOLD_LIMIT_SECONDS = 60


@dataclass
class Hold:
    """A call kept in flight: `arrived` is set when it reaches the stand-in; `release()` lets it on.
    With `answer_only`, the call is carried out at once (a posted message is there to see and react
    to) and only its answer waits for the release."""

    method: str
    match: dict[str, Any]
    answer_only: bool = False
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.released.set()

    def wait_released(self) -> None:
        self.released.wait(HOLD_LIMIT_SECONDS)


@dataclass
class _Fault:
    method: str
    match: dict[str, Any]
    remaining: int
    error: str | None = None  # fail_next
    retry_after: int | None = None  # rate_limit_next


def _count_off(faults: list[_Fault], method: str, args: Mapping[str, Any]) -> _Fault | None:
    """The first of `faults` this call meets, counted off (and forgotten when used up)."""
    for fault in faults:
        if fault.method == method and matches(args, fault.match):
            fault.remaining -= 1
            if fault.remaining <= 0:
                faults.remove(fault)
            return fault
    return None


class Faults:
    def __init__(self) -> None:
        self._faults: list[_Fault] = []
        self._drops: list[_Fault] = []
        self._holds: list[Hold] = []

    def fail_next(self, method: str, error: str, *, times: int, match: Mapping[str, Any]) -> None:
        self._faults.append(_Fault(method=method, match=dict(match), remaining=times, error=error))

    def rate_limit_next(self, method: str, *, retry_after: int, times: int, match: Mapping[str, Any]) -> None:
        self._faults.append(_Fault(method=method, match=dict(match), remaining=times, retry_after=retry_after))

    def drop_answer_next(self, method: str, *, times: int, match: Mapping[str, Any]) -> None:
        self._drops.append(_Fault(method=method, match=dict(match), remaining=times))

    def hold_next(self, method: str, match: Mapping[str, Any], *, answer_only: bool = False) -> Hold:
        hold = Hold(method=method, match=dict(match), answer_only=answer_only)
        self._holds.append(hold)
        return hold

    @property
    def holding(self) -> bool:
        """Whether any hold waits for its call (cheap enough to ask without the lock)."""
        return bool(self._holds)

    def take_hold(self, method: str, args: Mapping[str, Any]) -> Hold | None:
        """The first hold this call meets, now marked arrived; None if it meets none."""
        for hold in self._holds:
            if hold.method == method and matches(args, hold.match):
                self._holds.remove(hold)
                hold.arrived.set()
                return hold
        return None

    def take_fault(self, method: str, args: Mapping[str, Any]) -> Answer | None:
        """The answer of the first fault this call meets, counted off; None if it meets none."""
        fault = _count_off(self._faults, method, args)
        if fault is None:
            return None
        if fault.retry_after is not None:
            return Answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(fault.retry_after)})
        return Answer(200, {"ok": False, "error": fault.error or "fatal_error"})

    def take_drop(self, method: str, args: Mapping[str, Any]) -> bool:
        """Whether this call, which has taken effect, loses its answer (counted off)."""
        return _count_off(self._drops, method, args) is not None

    def clear(self) -> None:
        """Forget every fault; let every held call on (nothing stays held across a reset)."""
        for hold in self._holds:
            hold.release()
        self._faults = []
        self._drops = []
        self._holds = []
