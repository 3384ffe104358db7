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
    GRANT = "grant"
    DECLINE = "decline"
    EXPIRE = "expire"
    WITHDRAW = "withdraw"


TRANSITIONS: dict[tuple[Status, Event], Status] = {
    (Status.PENDING, Event.GRANT): Status.GRANTED,
    (Status.PENDING, Event.DECLINE): Status.DECLINED,
    (Status.PENDING, Event.EXPIRE): Status.EXPIRED,
    (Status.PENDING, Event.WITHDRAW): Status.WITHDRAWN,
}

FINAL: frozenset[Status] = frozenset(s for s in Status if not any(k[0] == s for k in TRANSITIONS))


class InvalidTransition(Exception):
    def __init__(self, status: Status, event: Event) -> None:
        super().__init__(f"a {status} proposal cannot be {event}ed")
        self.status = status
        self.event = event


def next_status(status: Status, event: Event) -> Status:
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise InvalidTransition(status, event) from None


def sources(event: Event) -> frozenset[Status]:
    """The states from which `event` may happen: the WHERE of the conditional update."""
    return frozenset(status for (status, ev) in TRANSITIONS if ev == event)


def target(event: Event) -> Status:
    targets = {to for (_, ev), to in TRANSITIONS.items() if ev == event}
    (only,) = targets
    return only
