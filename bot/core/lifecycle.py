"""A proposal's lifecycle as an explicit transition table.

pending → granted / declined / expired / withdrawn; every end state is final.
Storage turns a transition into one conditional UPDATE (``WHERE status IN
sources(event)``), so two approvals racing each other grant once.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class Event(StrEnum):
    """What happened to a proposal, as its history records it. A transition's event is spelled
    as the status it reaches."""

    PROPOSED = "proposed"
    ASKED = "asked"
    TAKEN = "taken"  # an agent took up a customer's request, and became its proposer
    GRANTED = "granted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    REVIEWED = "reviewed"
    OUTCOME = "outcome"  # the agent told how the customer took it


TRANSITIONS: dict[tuple[Status, Event], Status] = {
    (Status.PENDING, Event.GRANTED): Status.GRANTED,
    (Status.PENDING, Event.DECLINED): Status.DECLINED,
    (Status.PENDING, Event.EXPIRED): Status.EXPIRED,
    (Status.PENDING, Event.WITHDRAWN): Status.WITHDRAWN,
}


def sources(event: Event) -> frozenset[Status]:
    """The states from which `event` may happen: the WHERE of the conditional update."""
    return frozenset(status for (status, ev) in TRANSITIONS if ev == event)


def target(event: Event) -> Status:
    """The state `event` leads to (ValueError for an event that is no transition)."""
    targets = {to for (_, ev), to in TRANSITIONS.items() if ev == event}
    if len(targets) != 1:
        raise ValueError(f"{event} is not a transition")
    (only,) = targets
    return only
