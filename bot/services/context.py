"""What every use case is given: the policy, the roster, the database, the clock."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.core.authority import Roster
from bot.core.limits import PersonalLimits, effective, for_person
from bot.core.parsing import InputError
from bot.core.policy import Policy
from bot.core.trust import Suggestion
from bot.core.usage import Tallies
from bot.group_commit import GroupCommit
from bot.metrics import Metrics
from bot.services.results import Counted, OnItsCase
from storage import db, queries
from storage.queries.limits import limit_overrides, limits_version


class RolledUpSpans:
    """The usage of spans of rolled-up days, (first, stop), as reports read them. A rolled-up
    day's totals are written once and never change, so a span read once is right for as long as
    it is kept; the newest few are kept, in each process."""

    def __init__(self, keep: int = 8) -> None:
        self._keep = keep
        self._spans: OrderedDict[tuple[date, date], Tallies] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, first: date, stop: date) -> Tallies | None:
        with self._lock:
            found = self._spans.get((first, stop))
            if found is not None:
                self._spans.move_to_end((first, stop))
            return found

    def put(self, first: date, stop: date, tallies: Tallies) -> None:
        with self._lock:
            self._spans[(first, stop)] = tallies
            self._spans.move_to_end((first, stop))
            while len(self._spans) > self._keep:
                self._spans.popitem(last=False)


class PolicyInForce:
    """The policy file with the limits leads changed on top. Kept fresh by `refresh`: one read of
    the changes' version, and the changes themselves only when it moved. A request refreshes it
    at most every `every` seconds (`refresh_if_due`), so a limit a lead changes on one instance
    applies on every other within that, and at once on its own."""

    def __init__(self, base: Policy, *, every: float = 0.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.base = base
        self.every = every
        self.monotonic = monotonic
        self._policy = base
        self._personal: PersonalLimits = {}
        self._for_person: dict[tuple[int, str], Policy] = {}
        self._version = 0
        self._checked: float | None = None
        self._lock = threading.Lock()

    @property
    def policy(self) -> Policy:
        return self._policy

    def due(self) -> bool:
        return self._checked is None or self.monotonic() - self._checked >= self.every

    def refresh(self, session: Session) -> Policy:
        self._checked = self.monotonic()
        version = limits_version(session)
        with self._lock:
            if version <= self._version:
                return self._policy
        team, personal = limit_overrides(session)
        policy = effective(self.base, team)
        with self._lock:
            if version > self._version:  # a slower reader never puts older limits back
                self._policy, self._personal, self._version = policy, personal, version
                self._for_person = {}
        return policy

    def for_person(self, person: str) -> Policy:
        """The policy as it applies to one agent: with an alone limit a lead offered them."""
        with self._lock:
            version, policy, personal = self._version, self._policy, self._personal
        if not personal:
            return policy
        found = self._for_person.get((version, person))
        if found is None:
            found = self._for_person[(version, person)] = for_person(policy, person, personal)
        return found


@dataclass(frozen=True)
class Kept:
    """A remedy's precedent window counted up to `until`. `counted_at` is when it was last
    counted whole: requests move `until` on from what they read, and never count whole."""

    until: datetime
    count: int
    counted_at: datetime


class KeptCounts:
    """Counts of windows that have ended, kept per process: for each remedy, how many grants its
    precedent's window had up to a moment (see services.encouragement)."""

    def __init__(self) -> None:
        self._kept: dict[str, Kept] = {}
        self._lock = threading.Lock()

    def get(self, remedy_id: str) -> Kept | None:
        with self._lock:
            return self._kept.get(remedy_id)

    def keep(self, remedy_id: str, kept: Kept) -> None:
        """A count made whole: it replaces whatever is kept."""
        with self._lock:
            self._kept[remedy_id] = kept

    def move_on(self, remedy_id: str, read: Kept, to: Kept) -> bool:
        """Replace `read` with `to`, a count worked out from it; not if something else was kept
        since `read` was read (a whole count, or another request's), which then stands."""
        with self._lock:
            if self._kept.get(remedy_id) is not read:
                return False
            self._kept[remedy_id] = to
            return True


@dataclass(frozen=True)
class Context:
    base_policy: Policy  # the policy file, as loaded
    roster: Callable[[], Roster]
    sessions: sessionmaker[Session]
    clock: Clock
    wake_sender: Callable[[], None] = lambda: None
    metrics: Metrics = field(default_factory=Metrics)
    # Grants within the agent's own authority that arrive together are written together; None
    # for one that, with what its case already has, no longer fits (see services.proposing).
    alone_grants: GroupCommit[queries.NewProposal, int | None] = field(
        default_factory=lambda: GroupCommit(alone_on=(IntegrityError, DataError))
    )
    # Proposals decided with what their case already has (the requests, mostly) that arrive
    # together are written together, under their cases' locks and the routing lock taken once
    # (see services.proposing.write_on_cases). A named person who can't be asked is one
    # item's fault: the batch is then written one by one.
    on_cases: GroupCommit[OnItsCase, Counted] = field(
        default_factory=lambda: GroupCommit(alone_on=(IntegrityError, DataError, InputError))
    )
    # How many grants each remedy's precedent window had up to a moment lately (see Kept).
    precedent_counts: KeptCounts = field(default_factory=KeptCounts)
    # How stale another instance's limit change may be here, in seconds (LIMITS_REFRESH_SECONDS).
    limits_refresh_seconds: float = 0.0
    in_force: PolicyInForce = field(init=False)
    # The suggestions a lead's Home shows: read from the evidence by a job every few minutes and
    # after each limit change here, not on every Home (the evidence moves slowly, and reading it
    # costs more than a Home may). `/remedy trust` and the digest read it afresh.
    ready_to_move: list[Suggestion] = field(default_factory=list)
    # The whole days of usage reports read lately (see services.usage): a year's totals less
    # those of the day before it are thousands of rows to add up, the same for a whole day.
    rolled_up_spans: RolledUpSpans = field(default_factory=RolledUpSpans)

    def __post_init__(self) -> None:
        object.__setattr__(self, "in_force", PolicyInForce(self.base_policy, every=self.limits_refresh_seconds))

    @property
    def policy(self) -> Policy:
        """The policy in force: the file's, with the limits leads changed (as of the last refresh)."""
        return self.in_force.policy

    def policy_for(self, person: str) -> Policy:
        """The policy in force as it applies to `person` (see PolicyInForce.for_person)."""
        return self.in_force.for_person(person)

    def refresh_policy(self) -> Policy:
        with db.reading(self.sessions) as session:
            return self.in_force.refresh(session)

    def refresh_policy_if_due(self) -> Policy:
        """A request's refresh: a read of the database only every `limits_refresh_seconds`."""
        return self.refresh_policy() if self.in_force.due() else self.policy
