"""Usage figures: added up by the database from the decisions themselves over any window, or
read from the running totals of rolled-up days (usage_total, usage_total_time). Never a row per
decision to Python."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, func, insert, literal_column, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.core.policy import Tier
from bot.core.usage import CUSTOMERS, TIME_STEPS, Tallies, Tally, TimeCount
from storage.models import Decision, Hundredths, Proposal, UsageRollup, UsageTotal, UsageTotalTime

ROLLUP = 1  # the one row of usage_rollup


def _number(value: int) -> ColumnElement[int]:
    # Written into the SQL, not bound: the same CASE then reads the same in SELECT and GROUP BY.
    return literal_column(str(int(value)), Integer)


def _step(seconds: ColumnElement[int]) -> ColumnElement[int]:
    """The start of the step (TIME_STEPS) a time to decision falls in, as `usage.time_step`."""
    steps = pairwise(TIME_STEPS)
    return case(*((seconds < _number(upper), _number(lower)) for lower, upper in steps), else_=_number(TIME_STEPS[-1]))


# Built once: a CASE of every step is a large expression to build on every report.
_STEP = _step(Decision.__table__.c.seconds_to_decision)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _amount(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, Proposal.amount), else_=0), type_=Hundredths())


def _tallies(rows: Iterable[Any]) -> tuple[Tally, ...]:
    """Rows labelled with Tally's own names, as tallies: counts as ints, whatever each database
    sums them as; amounts arrive as Decimals already (Hundredths)."""
    tallies = []
    for row in rows:
        figures: dict[str, Any] = {k: int(v) if k in _COUNTS else v for k, v in row._mapping.items()}
        tallies.append(Tally(**figures))
    return tuple(tallies)


_COUNTS = {f.name for f in fields(Tally) if f.type == "int"}


def tallies_between(session: Session, *, start: datetime, end: datetime) -> Tallies:
    """The figures of the decisions granted in (start, end], added up per person and unit."""
    window = and_(Decision.granted_at > start, Decision.granted_at <= end)
    # What customers served themselves counts in a row of its own, with none of an agent's figures.
    by_agent = Proposal.tier != Tier.CUSTOMER
    person = func.coalesce(Proposal.proposer, CUSTOMERS)
    fair = and_(by_agent, Proposal.customer_fair.is_not(None))
    taken = and_(by_agent, Proposal.amount == Proposal.customer_fair)
    decided = session.execute(
        select(
            person.label("person"),
            Proposal.unit.label("unit"),
            _count(Proposal.tier == Tier.ALONE).label("alone"),
            _count(Proposal.tier == Tier.PEER).label("with_peer"),
            _count(Proposal.tier == Tier.LEAD).label("with_lead"),
            _count(Proposal.tier == Tier.CUSTOMER).label("self_served"),
            func.sum(Proposal.amount, type_=Hundredths()).label("value"),
            _count(fair).label("fair_count"),
            _amount(fair).label("granted_where_fair"),
            func.coalesce(func.sum(case((by_agent, Proposal.customer_fair), else_=None)), 0, type_=Hundredths()).label(
                "fair_figures"
            ),
            _count(taken).label("fair_taken"),
            _amount(taken).label("fair_taken_value"),
        )
        .join(Decision, Decision.proposal_id == Proposal.id)
        .where(window)
        .group_by(person, Proposal.unit)
    )
    agreed = session.execute(
        select(Decision.agreed_by.label("person"), Proposal.unit.label("unit"), func.count().label("agreements_given"))
        .join(Proposal, Proposal.id == Decision.proposal_id)
        .where(window, Decision.agreed_by.is_not(None), Proposal.tier != Tier.ALONE)
        .group_by(Decision.agreed_by, Proposal.unit)
    )
    times = session.execute(
        select(Proposal.proposer, _STEP, func.count())
        .join(Decision, Decision.proposal_id == Proposal.id)
        .where(window, by_agent, Proposal.proposer.is_not(None))
        .group_by(Proposal.proposer, _STEP)
    )
    return Tallies(
        _tallies(decided) + _tallies(agreed),
        tuple(TimeCount(who, int(s), int(n)) for who, s, n in times if who is not None),
    )


def totals_through(session: Session, *, day: date) -> Tallies:
    """Usage from the first day rolled up through `day` (nothing, before the first)."""
    total = UsageTotal.__table__.c
    units = session.execute(select(*(c.label(c.name) for c in total if c.name != "day")).where(total.day == day))
    times = session.execute(select(UsageTotalTime.person, UsageTotalTime.steps).where(UsageTotalTime.day == day))
    return Tallies(
        _tallies(units),
        tuple(TimeCount(person, int(step), int(n)) for person, steps in times for step, n in steps.items()),
    )


def rolled_through(session: Session) -> date | None:
    """The last day rolled up (every day up to it is), or None before the first."""
    return session.scalar(select(UsageRollup.through).where(UsageRollup.id == ROLLUP))


def first_granted_at(session: Session) -> datetime | None:
    return session.scalar(select(func.min(Decision.granted_at)))


def move_rollup(session: Session, *, after: date | None, to: date) -> bool:
    """Claim rolling up through `to`, if the roll-up still stands at `after`. Conditional, so
    of two instances rolling up the same day only one may write it."""
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        upsert(UsageRollup)
        .values(id=ROLLUP, through=to)
        .on_conflict_do_update(
            index_elements=[UsageRollup.id],
            set_={"through": to},
            # No row yet (after is None): only the insert may claim; a row means someone did.
            where=UsageRollup.through == after if after is not None else literal_column("1") == 0,
        )
        .returning(UsageRollup.through)
    )
    return session.execute(statement).first() is not None


def add_totals(session: Session, *, day: date, tallies: Tallies) -> None:
    """Write the totals through `day`: every person and unit with anything, so the day's rows
    alone are its totals."""
    merged = tallies.merged()
    if merged.units:
        session.execute(
            insert(UsageTotal),
            [{"day": day, "person": t.person, "unit": t.unit, **t.figures()} for t in merged.units],
        )
    steps: dict[str, dict[str, int]] = {}
    for t in merged.times:
        steps.setdefault(t.person, {})[str(t.step)] = t.count
    if steps:
        session.execute(
            insert(UsageTotalTime), [{"day": day, "person": person, "steps": s} for person, s in steps.items()]
        )
