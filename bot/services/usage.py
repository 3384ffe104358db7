"""Usage made visible, at a cost that doesn't grow with history: closed UTC days are rolled up
into running totals (per person and unit, and per person the times to decision in steps), and a
report takes the difference of two days' totals for the whole days inside its window, and reads
only its edges, and any day not yet rolled up, from the decisions. The grant itself writes
nothing more: the roll-up runs on the schedule."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.usage import Tallies, UsageReport, outcome_counts, usage_report
from bot.services.context import Context
from bot.services.results import ONLY_LEADS_USAGE, Refused
from storage import db, queries
from storage.queries import outcomes as outcome_queries

log = logging.getLogger("leeway.usage")

# A day is rolled up this long after it ends, so a grant stamped just before midnight and
# committed a little later (a slow transaction, an instance whose clock runs behind) is in it.
SETTLED_AFTER = timedelta(hours=1)
DAY = timedelta(days=1)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def day_of(at: datetime) -> date:
    """The day a moment counts in: a day runs from just after its midnight to the next one
    included, as a report's window (start, end] does."""
    at = at.astimezone(UTC)
    return at.date() - DAY if at == midnight(at.date()) else at.date()


def first_day_after(at: datetime) -> date:
    """The first day whose whole span lies after `at`."""
    at = at.astimezone(UTC)
    return at.date() if at == midnight(at.date()) else at.date() + DAY


def usage_between(ctx: Context, *, start: datetime, end: datetime) -> UsageReport:
    """Usage over (start, end]: its whole days that are rolled up, as the totals through the last
    of them less those through the day before the first; the rest (the edges, and days not yet
    rolled up) added up by the database from the decisions."""
    with db.reading(ctx.sessions) as session:
        through = queries.rolled_through(session)
        first = first_day_after(start)
        # Whole days inside the window end at its last midnight; rolled-up ones at `through`.
        stop = min(end.astimezone(UTC).date(), through + DAY) if through is not None else first
        if first < stop:
            tallies = (
                queries.tallies_between(session, start=start, end=midnight(first))
                + whole_days(ctx, session, first=first, stop=stop)
                + queries.tallies_between(session, start=midnight(stop), end=end)
            )
        else:
            tallies = queries.tallies_between(session, start=start, end=end)
        told = outcome_queries.outcomes_between(session, start=start, end=end)
    roster = ctx.roster()
    report = usage_report(tallies, roster.agents, leads=roster.leads, start=start, end=end)
    order = {remedy.id: i for i, remedy in enumerate(ctx.policy.remedies)}  # the policy's order
    told.sort(key=lambda row: order.get(row[0], len(order)))
    return replace(report, outcomes=outcome_counts(told))


def whole_days(ctx: Context, session: Session, *, first: date, stop: date) -> Tallies:
    """The usage of the rolled-up days from `first` until `stop`: the totals through the day
    before `stop` less those through the day before `first`, read once and then kept (a rolled-up
    day's totals never change), so asking again, or the Home's week after the digest's, reads
    only the edges."""
    found = ctx.rolled_up_spans.get(first, stop)
    if found is None:
        found = queries.totals_through(session, day=stop - DAY) - queries.totals_through(session, day=first - DAY)
        ctx.rolled_up_spans.put(first, stop, found)
    return found


def usage_window(ctx: Context, *, user: str, days: int) -> tuple[datetime, datetime] | Refused:
    """The span (start, end] of a lead's `/remedy usage` for the last `days`, ending now; its
    report is `usage_between` over it (read in the reports process)."""
    if not ctx.roster().is_lead(user):
        return Refused(ONLY_LEADS_USAGE)
    end = ctx.clock()
    return end - timedelta(days=days), end


def roll_up_usage(ctx: Context) -> int:
    """Roll up every day that ended at least SETTLED_AFTER ago and isn't yet: each in a short
    transaction of its own (on SQLite, writers wait for it), the figures read beforehand in one
    that only reads. Safe on every instance at once: a day is written only by the instance
    whose conditional update of the watermark succeeds. Returns the days this one rolled up."""
    # The last day that ended (at the midnight after it) at least SETTLED_AFTER ago.
    last = (ctx.clock() - SETTLED_AFTER).astimezone(UTC).date() - DAY
    rolled, refused = 0, None
    while True:
        with db.reading(ctx.sessions) as session:
            through = queries.rolled_through(session)
            if through is None:
                first = queries.first_granted_at(session)
                day = day_of(first) if first is not None else None
            else:
                day = through + DAY
            if day is None or day > last:
                return rolled
            if refused == day:  # refused twice at the same point: not a race, so don't spin
                log.warning("usage of %s can't be rolled up: its rows are there, the watermark isn't", day)
                return rolled
            # The totals through the day before (every person and unit so far), and the day's own.
            before = queries.totals_through(session, day=through) if through is not None else Tallies()
            tallies = before + queries.tallies_between(session, start=midnight(day), end=midnight(day + DAY))
        if roll_up_day(ctx, day=day, after=through, tallies=tallies):
            rolled += 1
        else:
            refused = day


def roll_up_day(ctx: Context, *, day: date, after: date | None, tallies: Tallies) -> bool:
    """Write the totals through `day`, if the roll-up still stands at `after` (the day before,
    or None before the first day): False when another instance got there first, and nothing
    written."""
    try:
        with ctx.sessions.begin() as session:
            if not queries.move_rollup(session, after=after, to=day):
                return False
            queries.add_totals(session, day=day, tallies=tallies)
    except IntegrityError:  # the day's rows are there already: another instance wrote them
        log.info("usage of %s was rolled up by another instance", day)
        return False
    return True
