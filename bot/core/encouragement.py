"""Encouragement: how the team has decided a remedy lately (the precedent a request carries),
the welcome someone new gets, and who is due a gentle nudge to use their authority. Pure: the
services read the facts, these rules decide."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bot.core.policy import Policy, Remedy

# A request shows how the team decided its remedy over this long before it was proposed.
PRECEDENT_WINDOW = timedelta(days=30)
# The precedent's median is that of the newest grants in the window, up to this many: exact for
# any team granting fewer a month, and a bounded read of the index for the busiest.
MEDIAN_OF_NEWEST = 501
# A nudge's example is a grant from this recently: "on Tuesday", not "last month".
RECENT_EXAMPLE = timedelta(days=7)


@dataclass(frozen=True)
class Precedent:
    """The grants of a remedy in the PRECEDENT_WINDOW before a proposal: how many, and the
    median amount (None when there were none)."""

    granted: int
    median: Decimal | None = None


def median(amounts: Sequence[Decimal]) -> Decimal | None:
    """The middle amount (the mean of the two middle ones for an even count); None for none."""
    if not amounts:
        return None
    ordered = sorted(amounts)
    middle = ordered[(len(ordered) - 1) // 2 : len(ordered) // 2 + 1]
    return (sum(middle, Decimal(0)) / len(middle)).quantize(Decimal("0.01"))


# --- the welcome -----------------------------------------------------------------------------


def example_remedy(policy: Policy) -> Remedy:
    """The remedy a welcome shows an example of: the first one an agent may grant alone."""
    return next((r for r in policy.remedies if r.alone_up_to > 0), policy.remedies[0])


def example_command(policy: Policy) -> str:
    """A proposal someone new could type as it is, within their own authority where the policy
    has such a tier: `/remedy refund 50 #4711 what happened, in a few words`."""
    remedy = example_remedy(policy)
    amount = remedy.alone_up_to if remedy.alone_up_to > 0 else remedy.highest_limit
    shown = f"{amount:f}".rstrip("0").rstrip(".") if "." in f"{amount:f}" else f"{amount:f}"
    return f"/remedy {remedy.id} {shown} #4711 what happened, in a few words"


# --- the nudge -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """What Leeway knows of someone on the roster, for nudging."""

    first_seen_at: datetime
    last_nudged_at: datetime | None = None
    nudges_off: bool = False  # they asked for no more of these


def due_for_nudge(
    agents: Sequence[str],
    *,
    seen: Mapping[str, Seen],
    proposed_since: Collection[str],
    away: Collection[str],
    leads: Collection[str] = (),
    now: datetime,
    after: timedelta,
) -> list[str]:
    """The agents, in roster order, due a nudge: on the roster for at least `after` (someone new
    has their welcome), no proposal of their own for `after` (`proposed_since` holds those who
    made one), not nudged within `after`, not away, and who haven't asked for no more of these.
    Leads coach; they are not nudged."""
    due = []
    for agent in agents:
        known = seen.get(agent)
        if known is None or agent in leads or agent in away or agent in proposed_since or known.nudges_off:
            continue
        if now - known.first_seen_at < after:
            continue
        if known.last_nudged_at is not None and now - known.last_nudged_at < after:
            continue
        due.append(agent)
    return due


@dataclass(frozen=True)
class Example:
    """A recent grant someone made on their own: what a nudge offers as an example."""

    proposer: str
    remedy_id: str
    remedy_label: str
    amount: Decimal
    unit: str
    granted_at: datetime
    proposal_id: int | None = None


def pick_example(recent: Sequence[Example], policy: Policy, *, for_agent: str) -> Example | None:
    """The newest of `recent` (newest first) made by someone else, of a remedy the policy still
    lets an agent grant alone, so "you can too" holds."""
    for example in recent:
        remedy = policy.remedy(example.remedy_id)
        if example.proposer != for_agent and remedy is not None and remedy.alone_up_to > 0:
            return example
    return None
