"""How fast the sender goes: the claim's lease, the gap between posts to one channel, and how
long the loop rests between passes (a pure function of what the last pass saw)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

# A claim outlives any single Slack call (15 s timeout, connection retries), and is renewed
# before each send, so a slow pass never sends a message another sender has since taken.
LEASE = timedelta(seconds=120)
# Slack allows about one chat.postMessage per second per channel; a burst is spread out, not dropped.
POST_INTERVAL = timedelta(seconds=1)
# The least time between two passes of the sender loop while it is being woken continually; and
# after a pass that found nothing it could send (every channel waiting for its slot).
PASS_GAP = 0.02
QUIET_GAP = 0.2
SLOT_MARGIN = 0.005  # wake just after a slot frees, not just before


def seconds_until(when: datetime | None, now: datetime) -> float:
    """Seconds from `now` until `when` (0 once it has passed; inf when there is no such time)."""
    return math.inf if when is None else max(0.0, (when - now).total_seconds())


def pause(
    handled: int,
    *,
    elapsed: float,
    now: datetime,
    next_slot: datetime | None,
    next_attempt: datetime | None,
    idle_wait: float,
) -> tuple[float, float]:
    """After a pass that handled `handled` messages and took `elapsed` seconds: how long to let
    wakes gather before the next pass, and the longest to rest in all (seconds from `now`).
    `next_slot` is when the next channel with posts waiting may post, `next_attempt` when the next
    message not yet due falls due (None: there is none).

    Under load every decision wakes the sender. Let those wakes share one pass instead of each
    costing a query. While posts wait behind their channels' slots and this pass could send
    nothing, the wakes are mostly more of the same, so let them gather longer. But never rest
    past the next slot, or the next retry falling due."""
    until_slot = seconds_until(next_slot, now)
    gap = QUIET_GAP if not handled and until_slot < math.inf else PASS_GAP
    gather = max(0.0, gap - elapsed)
    due = min(until_slot, seconds_until(next_attempt, now)) + SLOT_MARGIN
    # Already due now: a message written while the pass ran, whose writer woke the sender (let
    # that wake gather like any other), or, rarely, a retry that fell due meanwhile (it goes
    # after the gathering). Cutting the gathering short for these would spin under load.
    if due > SLOT_MARGIN:
        gather = min(gather, due)
    return gather, max(gather, min(idle_wait, due))
