"""How long the sender rests between passes: plain values in, (gather, longest) out."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from bot.outbox.pacing import PASS_GAP, QUIET_GAP, SLOT_MARGIN, pause, seconds_until

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
IDLE = 1.0


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("when", "seconds"),
    [(None, math.inf), (at(1.5), 1.5), (NOW, 0.0), (at(-3), 0.0)],
)
def test_seconds_until(when: datetime | None, seconds: float) -> None:
    assert seconds_until(when, NOW) == seconds


@pytest.mark.parametrize(
    ("handled", "elapsed", "next_slot", "next_attempt", "expected"),
    [
        # Nothing waits: gather briefly, then rest the idle wait.
        (0, 0.0, None, None, (PASS_GAP, IDLE)),
        (3, 0.0, None, None, (PASS_GAP, IDLE)),
        # A pass that took longer than the gap looks again at once if woken.
        (3, 0.5, None, None, (0.0, IDLE)),
        (3, PASS_GAP / 2, None, None, (PASS_GAP / 2, IDLE)),
        # Posts wait behind a slot and this pass sent nothing: the wakes gather longer...
        (0, 0.0, at(0.5), None, (QUIET_GAP, 0.5 + SLOT_MARGIN)),
        # ...but one that sent something gathers as usual.
        (2, 0.0, at(0.5), None, (PASS_GAP, 0.5 + SLOT_MARGIN)),
        # Never rest past the next slot, or the next message falling due.
        (0, 0.0, at(0.1), None, (0.1 + SLOT_MARGIN, 0.1 + SLOT_MARGIN)),
        (2, 0.0, None, at(0.01), (0.01 + SLOT_MARGIN, 0.01 + SLOT_MARGIN)),
        (2, 0.0, None, at(0.3), (PASS_GAP, 0.3 + SLOT_MARGIN)),
        (0, 0.0, at(5), at(0.4), (QUIET_GAP, 0.4 + SLOT_MARGIN)),
        (0, 0.0, at(5), None, (QUIET_GAP, IDLE)),
        # Already due (written while the pass ran): the gathering is not cut short.
        (2, 0.0, NOW, None, (PASS_GAP, PASS_GAP)),
        (0, 0.0, at(-1), None, (QUIET_GAP, QUIET_GAP)),
        (0, 0.0, None, NOW, (PASS_GAP, PASS_GAP)),
    ],
)
def test_pause(
    handled: int,
    elapsed: float,
    next_slot: datetime | None,
    next_attempt: datetime | None,
    expected: tuple[float, float],
) -> None:
    got = pause(handled, elapsed=elapsed, now=NOW, next_slot=next_slot, next_attempt=next_attempt, idle_wait=IDLE)
    assert got == pytest.approx(expected)
