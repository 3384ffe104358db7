"""Usage made visible: who uses their authority, and how. Authority that goes unused is the
real failure, so the report invites coaching; it is never a ranking."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from bot.core.policy import Tier


@dataclass(frozen=True)
class GrantedRecord:
    """One granted decision, as the report needs it."""

    proposer: str
    agreed_by: str | None
    tier: Tier
    amount: Decimal
    unit: str
    fair: Decimal | None
    seconds_to_decision: int


@dataclass(frozen=True)
class AgentUsage:
    user: str
    alone: int = 0
    with_peer: int = 0
    with_lead: int = 0
    agreements_given: int = 0
    value: dict[str, Decimal] = field(default_factory=dict)  # by unit: currency code or "days"
    median_seconds: float | None = None

    @property
    def decisions(self) -> int:
        return self.alone + self.with_peer + self.with_lead


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

    @property
    def used(self) -> int:
        return self.team_size - len(self.not_yet)

    @property
    def share(self) -> float:
        return self.used / self.team_size if self.team_size else 0.0


def usage_report(
    records: Iterable[GrantedRecord],
    agents: Sequence[str],
    *,
    start: datetime,
    end: datetime,
    leads: Sequence[str] = (),
) -> UsageReport:
    records = list(records)
    by_proposer: dict[str, list[GrantedRecord]] = defaultdict(list)
    agreements: dict[str, int] = defaultdict(int)
    for record in records:
        by_proposer[record.proposer].append(record)
        if record.agreed_by and record.tier is not Tier.ALONE:
            agreements[record.agreed_by] += 1
    rows = []
    people = [*agents, *(u for u in leads if u not in agents)]
    for user in people:
        mine = by_proposer.get(user, [])
        value: dict[str, Decimal] = defaultdict(Decimal)
        for record in mine:
            value[record.unit] += record.amount
        rows.append(
            AgentUsage(
                user=user,
                alone=sum(1 for r in mine if r.tier is Tier.ALONE),
                with_peer=sum(1 for r in mine if r.tier is Tier.PEER),
                with_lead=sum(1 for r in mine if r.tier is Tier.LEAD),
                agreements_given=agreements.get(user, 0),
                value=dict(value),
                median_seconds=statistics.median(r.seconds_to_decision for r in mine) if mine else None,
            )
        )
    with_fair = [r for r in records if r.fair is not None]
    granted: dict[str, Decimal] = defaultdict(Decimal)
    fair: dict[str, Decimal] = defaultdict(Decimal)
    taken: dict[str, Decimal] = defaultdict(Decimal)
    for record in with_fair:
        granted[record.unit] += record.amount
        fair[record.unit] += record.fair or Decimal(0)
        if record.amount == record.fair:
            taken[record.unit] += record.amount
    agent_set = set(agents)
    return UsageReport(
        start=start,
        end=end,
        agents=tuple(rows),
        decisions=len(records),
        not_yet=tuple(a.user for a in rows if a.decisions == 0 and a.user in agent_set),
        team_size=len(agents),
        people_deciding=len({r.proposer for r in records}),
        fair_count=len(with_fair),
        granted_where_fair=dict(granted),
        fair_figures=dict(fair),
        fair_taken=sum(1 for r in with_fair if r.amount == r.fair),
        fair_taken_value=dict(taken),
    )
