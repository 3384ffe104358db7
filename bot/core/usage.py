"""Usage made visible: who uses their authority, and how. Authority that goes unused is the
real failure, so the report invites coaching; it is never a ranking.

The report is built from tallies: per person and unit, sums over some span of decisions (the
running totals of rolled-up days, or raw rows the database added up). Tallies for the same
person add up, and totals through one day less those through an earlier one are the days
between, so a window is its whole days and its edges, whichever way each was counted.
Time to decision is counted in steps (TIME_STEPS) rather than kept per decision, so the median
is the step the middle decision falls in, shown by where that step starts."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.core.policy import Tier
from bot.core.vocabulary import CustomerOutcome

MINUTE, HOUR, DAY = 60, 3600, 86400
# Where each step of time to decision starts, in seconds. Every start is a figure
# `views.markup.duration` shows exactly ("instantly", "8 s", "12 min", "1 h 30 min", "2 d"). Each
# step ends at most a third past its start, but for 1-2 and 2-3 minutes (the report shows whole
# minutes there); the last, from 90 days, is open.
TIME_STEPS: tuple[int, ...] = (
    0,
    *(1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50),
    *(m * MINUTE for m in (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50)),
    *(int(h * HOUR) for h in (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 12, 15, 18)),
    *(int(d * DAY) for d in (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 75, 90)),
)


def time_step(seconds: int) -> int:
    """The start of the step `seconds` falls in."""
    return TIME_STEPS[bisect.bisect_right(TIME_STEPS, max(0, seconds)) - 1]


# Whom the grants customers served themselves are counted for: a row of their own in the tallies
# (no Slack user id looks like it), never an agent's, so usage shows them as a tier of their own.
CUSTOMERS = "(customers)"


@dataclass(frozen=True)
class GrantedRecord:
    """One granted decision, as the report needs it."""

    proposer: str | None  # None: the customer served themselves
    agreed_by: str | None
    tier: Tier
    amount: Decimal
    unit: str
    fair: Decimal | None
    seconds_to_decision: int


@dataclass(frozen=True)
class Tally:
    """One person's figures in one unit over some span: the decisions they made (and their
    value, and what customers said was fair for them), and the agreements they gave others."""

    person: str
    unit: str  # a currency code, or "days"
    alone: int = 0
    with_peer: int = 0
    with_lead: int = 0
    self_served: int = 0  # by customers in the product (only CUSTOMERS' tallies have any)
    agreements_given: int = 0
    value: Decimal = Decimal(0)
    fair_count: int = 0  # decisions where the customer named a fair figure
    granted_where_fair: Decimal = Decimal(0)  # what was granted for those
    fair_figures: Decimal = Decimal(0)  # what the customers said was fair
    fair_taken: int = 0  # ...where exactly the customer's figure was granted
    fair_taken_value: Decimal = Decimal(0)

    @property
    def decisions(self) -> int:
        return self.alone + self.with_peer + self.with_lead

    def figures(self) -> dict[str, Any]:
        return dict(zip(FIGURES, self.values(), strict=True))

    def values(self) -> tuple[Any, ...]:
        """The figures, in FIGURES' order."""
        return (
            self.alone,
            self.with_peer,
            self.with_lead,
            self.self_served,
            self.agreements_given,
            self.value,
            self.fair_count,
            self.granted_where_fair,
            self.fair_figures,
            self.fair_taken,
            self.fair_taken_value,
        )

    def __add__(self, other: Tally) -> Tally:
        assert (self.person, self.unit) == (other.person, other.unit)
        return Tally(self.person, self.unit, *(a + b for a, b in zip(self.values(), other.values(), strict=True)))


# The names of a tally's figures, in the order of its fields (after person and unit).
FIGURES: tuple[str, ...] = tuple(f.name for f in fields(Tally))[2:]


@dataclass(frozen=True)
class TimeCount:
    """How many of a person's decisions took a time within the step starting at `step`."""

    person: str
    step: int
    count: int


@dataclass(frozen=True)
class Tallies:
    """What a span of decisions adds up to. Spans add up: their tallies are put together."""

    units: tuple[Tally, ...] = ()
    times: tuple[TimeCount, ...] = ()

    def __add__(self, other: Tallies) -> Tallies:
        return Tallies(self.units + other.units, self.times + other.times)

    def __sub__(self, other: Tallies) -> Tallies:
        """What this has beyond `other`: totals through a later day less those through an earlier."""
        return _merged((self, 1), (other, -1))

    def merged(self) -> Tallies:
        """One tally per person and unit, one count per person and step."""
        return _merged((self, 1))


def _merged(*signed: tuple[Tallies, int]) -> Tallies:
    """The sum of each Tallies times its sign, merged: a year's totals are thousands of rows, so
    each person's figures are added up in place and made a tally once."""
    units: dict[tuple[str, str], list[Any]] = {}
    times: dict[tuple[str, int], int] = defaultdict(int)
    for tallies, sign in signed:
        for tally in tallies.units:
            key = (tally.person, tally.unit)
            values = tally.values()
            sums = units.get(key)
            if sums is None:
                units[key] = [v * sign for v in values] if sign != 1 else list(values)
            else:
                for i, v in enumerate(values):
                    sums[i] += v * sign
        for time in tallies.times:
            times[time.person, time.step] += time.count * sign
    return Tallies(
        tuple(Tally(person, unit, *sums) for (person, unit), sums in units.items() if any(sums)),
        tuple(TimeCount(p, s, c) for (p, s), c in times.items() if c),
    )


def tally(records: Iterable[GrantedRecord]) -> Tallies:
    """What the database adds up, done here from the decisions themselves: the definition."""
    units: list[Tally] = []
    times: list[TimeCount] = []
    for r in records:
        if r.tier is Tier.CUSTOMER or r.proposer is None:
            # Their own row: no one's decision, no agent's time, no fair figure set against an agent.
            units.append(Tally(person=CUSTOMERS, unit=r.unit, self_served=1, value=r.amount))
            continue
        fair = r.fair is not None
        taken = r.amount == r.fair
        units.append(
            Tally(
                person=r.proposer,
                unit=r.unit,
                alone=int(r.tier is Tier.ALONE),
                with_peer=int(r.tier is Tier.PEER),
                with_lead=int(r.tier is Tier.LEAD),
                value=r.amount,
                fair_count=int(fair),
                granted_where_fair=r.amount if fair else Decimal(0),
                fair_figures=r.fair or Decimal(0),
                fair_taken=int(taken),
                fair_taken_value=r.amount if taken else Decimal(0),
            )
        )
        if r.agreed_by and r.tier is not Tier.ALONE:
            units.append(Tally(person=r.agreed_by, unit=r.unit, agreements_given=1))
        times.append(TimeCount(r.proposer, time_step(r.seconds_to_decision), 1))
    return Tallies(tuple(units), tuple(times)).merged()


def median_step(counts: Mapping[int, int]) -> int | None:
    """The step the middle decision falls in (of an even number, the lower middle one)."""
    total = sum(counts.values())
    if not total:
        return None
    middle, seen = (total + 1) // 2, 0
    for step in sorted(counts):
        seen += counts[step]
        if seen >= middle:
            return step
    raise AssertionError("unreachable: the counts add up to the total")


@dataclass(frozen=True)
class AgentUsage:
    user: str
    alone: int = 0
    with_peer: int = 0
    with_lead: int = 0
    agreements_given: int = 0
    value: dict[str, Decimal] = field(default_factory=dict)  # by unit: currency code or "days"
    median_seconds: float | None = None  # where the step of the middle decision starts

    @property
    def decisions(self) -> int:
        return self.alone + self.with_peer + self.with_lead


@dataclass(frozen=True)
class OutcomeCount:
    """How customers took one remedy's grants in the period, as the agents told it: per remedy,
    never per agent (an unhappy customer is something to learn from, not a mark against anyone)."""

    remedy_label: str
    delighted: int = 0
    ok: int = 0
    unhappy: int = 0


@dataclass(frozen=True)
class UsageReport:
    start: datetime
    end: datetime
    agents: tuple[AgentUsage, ...]
    decisions: int
    not_yet: tuple[str, ...]  # agents who have not used their authority in the period
    team_size: int = 0  # agents (leads coach; they are not counted in the share)
    people_deciding: int = 0  # everyone who made a decision, leads included
    fair_count: int = 0  # decisions where the customer named a fair figure
    granted_where_fair: dict[str, Decimal] = field(default_factory=dict)  # what was granted for those
    fair_figures: dict[str, Decimal] = field(default_factory=dict)  # what the customers said was fair
    fair_taken: int = 0  # ...where the agent granted exactly the customer's figure
    fair_taken_value: dict[str, Decimal] = field(default_factory=dict)
    self_served: int = 0  # grants customers served themselves in the product (the customer tier)
    self_served_value: dict[str, Decimal] = field(default_factory=dict)
    outcomes: tuple[OutcomeCount, ...] = ()  # per remedy, for its grants in the period

    @property
    def used(self) -> int:
        return self.team_size - len(self.not_yet)

    @property
    def share(self) -> float:
        return self.used / self.team_size if self.team_size else 0.0


def _by_unit(tallies: Iterable[Tally], figure: str) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for t in tallies:
        if getattr(t, figure):
            sums[t.unit] += getattr(t, figure)
    return dict(sums)


def usage_report(
    tallies: Tallies,
    agents: Sequence[str],
    *,
    start: datetime,
    end: datetime,
    leads: Sequence[str] = (),
) -> UsageReport:
    merged = tallies.merged()
    mine: dict[str, list[Tally]] = defaultdict(list)
    for t in merged.units:
        mine[t.person].append(t)
    times: dict[str, dict[int, int]] = defaultdict(dict)
    for time in merged.times:
        times[time.person][time.step] = time.count
    rows = []
    people = [*agents, *(u for u in leads if u not in agents)]
    for user in people:
        theirs = mine.get(user, [])
        rows.append(
            AgentUsage(
                user=user,
                alone=sum(t.alone for t in theirs),
                with_peer=sum(t.with_peer for t in theirs),
                with_lead=sum(t.with_lead for t in theirs),
                agreements_given=sum(t.agreements_given for t in theirs),
                value=_by_unit(theirs, "value"),
                median_seconds=median_step(times.get(user, {})),
            )
        )
    customers = [t for t in merged.units if t.person == CUSTOMERS]
    units = tuple(t for t in merged.units if t.person != CUSTOMERS)
    agent_set = set(agents)
    return UsageReport(
        start=start,
        end=end,
        agents=tuple(rows),
        decisions=sum(t.decisions for t in units),
        not_yet=tuple(a.user for a in rows if a.decisions == 0 and a.user in agent_set),
        team_size=len(agents),
        people_deciding=len({t.person for t in units if t.decisions}),
        fair_count=sum(t.fair_count for t in units),
        granted_where_fair=_by_unit(units, "granted_where_fair"),
        fair_figures=_by_unit(units, "fair_figures"),
        fair_taken=sum(t.fair_taken for t in units),
        fair_taken_value=_by_unit(units, "fair_taken_value"),
        self_served=sum(t.self_served for t in customers),
        self_served_value=_by_unit(customers, "value"),
    )


def outcome_counts(told: Iterable[tuple[str, str, CustomerOutcome, int]]) -> tuple[OutcomeCount, ...]:
    """(remedy id, label, outcome, how many) rows, one count per remedy, in the order given."""
    counts: dict[str, dict[str, Any]] = {}
    for remedy_id, label, outcome, how_many in told:
        counts.setdefault(remedy_id, {"remedy_label": label})[outcome.value] = how_many
    return tuple(OutcomeCount(**fields) for fields in counts.values())
