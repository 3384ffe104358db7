"""Usage reports add up rolled-up days and read only their edges from the decisions: the answer
is the one the decisions themselves give, whatever has been rolled up, on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot import jobs, services
from bot.core.authority import Roster
from bot.core.lifecycle import Status
from bot.core.policy import Tier
from bot.core.usage import GrantedRecord, UsageReport, tally, usage_report
from bot.services.usage import roll_up_day
from storage import queries
from storage.db import make_engine, make_sessions
from storage.models import Decision, Proposal, UsageTotal
from tests.policies import AGENTS, LEADS, team_policy
from tests.support import FakeClock, wipe

MIDNIGHT = datetime(2026, 11, 20, tzinfo=UTC)  # a Friday
ROSTER = Roster(agents=AGENTS, leads=LEADS)


@dataclass(frozen=True)
class Granted:
    at: datetime
    record: GrantedRecord


def context(engine: Engine, clock: FakeClock) -> services.Context:
    return services.Context(
        base_policy=team_policy(), roster=lambda: ROSTER, sessions=make_sessions(engine), clock=clock
    )


@pytest.fixture
def clean(engine: Engine) -> Iterator[Engine]:
    wipe(engine)
    yield engine
    wipe(engine)


def add_granted(session: Session, grants: Sequence[Granted]) -> None:
    for g in grants:
        r = g.record
        proposal = Proposal(
            status=Status.GRANTED,
            remedy_id="extension" if r.unit == "days" else "refund",
            remedy_label="Refund",
            unit=r.unit,
            amount=r.amount,
            customer_fair=r.fair,
            case_ref="#1",
            summary="parcel broken",
            tier=r.tier,
            proposer=r.proposer,
            asked=r.agreed_by,
            created_at=g.at - timedelta(seconds=r.seconds_to_decision),
            decided_at=g.at,
            decided_by=r.agreed_by or r.proposer,
        )
        session.add(proposal)
        session.flush()
        session.add(
            Decision(
                proposal_id=proposal.id,
                tier=r.tier,
                agreed_by=r.agreed_by,
                granted_at=g.at,
                seconds_to_decision=r.seconds_to_decision,
            )
        )


def grant(ctx: services.Context, *grants: Granted) -> None:
    with ctx.sessions.begin() as session:
        add_granted(session, grants)


def expected(grants: Sequence[Granted], start: datetime, end: datetime) -> UsageReport:
    """What the decisions themselves say, counted here one by one."""
    records = [g.record for g in grants if start < g.at <= end]
    return usage_report(tally(records), ROSTER.agents, leads=ROSTER.leads, start=start, end=end)


def same(report: UsageReport, wanted: UsageReport) -> bool:
    """Equal, and if not, which figures differ (in the assertion's message)."""
    differ = {f: (getattr(report, f), v) for f, v in vars(wanted).items() if getattr(report, f) != v}
    assert not differ, differ
    return True


def decided(
    proposer: str = "U0ANA",
    tier: Tier = Tier.ALONE,
    amount: str = "10",
    *,
    agreed_by: str | None = None,
    unit: str = "USD",
    fair: str | None = None,
    seconds: int = 0,
) -> GrantedRecord:
    return GrantedRecord(
        proposer=proposer,
        agreed_by=agreed_by,
        tier=tier,
        amount=Decimal(amount),
        unit=unit,
        fair=Decimal(fair) if fair is not None else None,
        seconds_to_decision=seconds,
    )


def rolled_days(engine: Engine) -> list[date]:
    """The days with totals of their own (a day before any decision has none)."""
    with make_sessions(engine).begin() as session:
        return sorted(session.scalars(select(UsageTotal.day).distinct()))


def totals(ctx: services.Context, day: date) -> tuple[int, int, int]:
    """Decisions, agreements and times to decision counted through `day`."""
    with ctx.sessions.begin() as session:
        through = queries.totals_through(session, day=day)
    return (
        sum(t.decisions for t in through.units),
        sum(t.agreements_given for t in through.units),
        sum(t.count for t in through.times),
    )


RECORD = st.builds(
    decided,
    proposer=st.sampled_from(["U0ANA", "U0BEN", "U0LEE", "U0GONE"]),  # U0GONE: left the team since
    tier=st.sampled_from([Tier.ALONE, Tier.PEER, Tier.LEAD]),
    amount=st.sampled_from(["10", "25.50", "90", "300"]),
    agreed_by=st.sampled_from([None, "U0BEN", "U0CHO", "U0LEE"]),
    unit=st.sampled_from(["USD", "days"]),
    fair=st.sampled_from([None, "10", "25.50", "60"]),
    seconds=st.sampled_from([0, 59, 61, 130, 700, 4000, 90_000]),
)
# Moments over five days, midnights and the instants either side of them included.
MOMENT = st.builds(
    lambda day, second: MIDNIGHT + timedelta(days=day, seconds=second),
    st.integers(0, 4),
    st.one_of(st.sampled_from([0, 1, 3599, 3600, 86_399]), st.integers(0, 86_399)),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    grants=st.lists(st.builds(Granted, at=MOMENT, record=RECORD), max_size=25),
    rolled_at=MOMENT,
    windows=st.lists(st.tuples(MOMENT, st.integers(1, 5 * 86_400)), min_size=1, max_size=4),
)
def test_a_report_from_rolled_up_days_is_the_report_the_decisions_give(
    clean: Engine, grants: list[Granted], rolled_at: datetime, windows: list[tuple[datetime, int]]
) -> None:
    wipe(clean)
    clock = FakeClock(rolled_at)
    ctx = context(clean, clock)
    grant(ctx, *grants)
    services.roll_up_usage(ctx)
    for start, length in windows:
        end = start + timedelta(seconds=length)
        assert same(services.usage_between(ctx, start=start, end=end), expected(grants, start, end))
    clock.advance(days=3)  # later, more days rolled up: the same answers
    services.roll_up_usage(ctx)
    for start, length in windows:
        end = start + timedelta(seconds=length)
        assert same(services.usage_between(ctx, start=start, end=end), expected(grants, start, end))


def test_closed_days_are_rolled_up_an_hour_after_they_end(clean: Engine) -> None:
    clock = FakeClock(MIDNIGHT + timedelta(days=3, minutes=59))
    ctx = context(clean, clock)
    grants = [Granted(MIDNIGHT + timedelta(days=d, hours=12), decided(seconds=60 * d)) for d in range(3)]
    grant(ctx, *grants)
    assert services.roll_up_usage(ctx) == 2  # the third day ended 59 minutes ago: not yet
    assert rolled_days(clean) == [MIDNIGHT.date(), MIDNIGHT.date() + timedelta(days=1)]
    clock.advance(minutes=1)
    assert services.roll_up_usage(ctx) == 1
    assert services.roll_up_usage(ctx) == 0  # nothing new: a second run adds nothing
    with ctx.sessions.begin() as session:
        assert queries.rolled_through(session) == MIDNIGHT.date() + timedelta(days=2)
    week = services.usage_between(ctx, start=MIDNIGHT - timedelta(days=7), end=clock())
    assert week == expected(grants, MIDNIGHT - timedelta(days=7), clock())
    assert week.decisions == 3


def test_a_grant_just_before_midnight_committed_late_is_counted(clean: Engine) -> None:
    clock = FakeClock(MIDNIGHT + timedelta(days=1, minutes=30))
    ctx = context(clean, clock)
    early = Granted(MIDNIGHT + timedelta(hours=9), decided("U0ANA"))
    grant(ctx, early)
    assert services.roll_up_usage(ctx) == 0  # the day ended half an hour ago
    # Stamped a moment before midnight, by a transaction that commits 40 minutes later.
    before_midnight = MIDNIGHT + timedelta(days=1) - timedelta(microseconds=1)
    late = Granted(before_midnight, decided("U0BEN", Tier.PEER, "90", agreed_by="U0CHO"))
    clock.advance(minutes=10)
    grant(ctx, late)
    report = services.usage_between(ctx, start=MIDNIGHT, end=clock())
    assert report.decisions == 2  # read from the decisions until the day is rolled up
    clock.advance(minutes=21)  # 01:01: the day is settled
    assert services.roll_up_usage(ctx) == 1
    assert services.usage_between(ctx, start=MIDNIGHT, end=clock()) == expected([early, late], MIDNIGHT, clock())
    assert totals(ctx, MIDNIGHT.date()) == (2, 1, 2)


def test_a_grant_at_midnight_counts_in_the_day_that_ends_then(clean: Engine) -> None:
    clock = FakeClock(MIDNIGHT + timedelta(days=3))
    ctx = context(clean, clock)
    at_midnight = Granted(MIDNIGHT + timedelta(days=1), decided())
    grant(ctx, at_midnight)
    assert services.roll_up_usage(ctx) == 2
    assert rolled_days(clean) == [MIDNIGHT.date(), MIDNIGHT.date() + timedelta(days=1)]
    assert totals(ctx, MIDNIGHT.date()) == (1, 0, 1)
    # A window that ends at that midnight has it; one that starts there hasn't.
    assert services.usage_between(ctx, start=MIDNIGHT, end=MIDNIGHT + timedelta(days=1)).decisions == 1
    assert services.usage_between(ctx, start=MIDNIGHT + timedelta(days=1), end=clock()).decisions == 0


def test_two_instances_rolling_up_the_same_days_count_each_decision_once(clean: Engine, database_url: str) -> None:
    clock = FakeClock(MIDNIGHT + timedelta(days=6, hours=2))
    grants = [
        Granted(MIDNIGHT + timedelta(days=d, hours=h), decided(p, Tier.PEER, agreed_by="U0LEE", seconds=100 * h))
        for d in range(6)
        for h in (1, 13, 23)
        for p in ("U0ANA", "U0BEN")
    ]
    grant(context(clean, clock), *grants)
    engines = [make_engine(database_url) for _ in range(2)]
    try:
        instances = [context(e, clock) for e in engines]
        rolled = [0, 0]
        ready = threading.Barrier(2)

        def run(i: int) -> None:
            ready.wait()
            rolled[i] = services.roll_up_usage(instances[i])

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sum(rolled) == 6  # each of the six days, by one instance or the other
        # One of them finds a day already claimed when it writes: refused, nothing written.
        day = MIDNIGHT.date() + timedelta(days=2)
        assert not roll_up_day(instances[0], day=day, after=day - timedelta(days=1), tallies=tally([]))
        assert not roll_up_day(instances[1], day=MIDNIGHT.date(), after=None, tallies=tally([]))
    finally:
        for e in engines:
            e.dispose()
    ctx = context(clean, clock)
    assert [totals(ctx, MIDNIGHT.date() + timedelta(days=d)) for d in range(6)] == [(n, n, n) for n in range(6, 37, 6)]
    start = MIDNIGHT - timedelta(days=1)
    assert services.usage_between(ctx, start=start, end=clock()) == expected(grants, start, clock())


def test_the_job_rolls_up_at_start_and_the_weekly_digest_reads_the_same(clean: Engine) -> None:
    clock = FakeClock(MIDNIGHT + timedelta(days=10, hours=9))
    ctx = context(clean, clock)
    grants = [
        Granted(MIDNIGHT + timedelta(days=d, hours=10), decided("U0ANA", Tier.LEAD, "300", agreed_by="U0LEE"))
        for d in range(10)
    ]
    grant(ctx, *grants)
    week_ago = clock() - timedelta(days=7)
    before = services.usage_between(ctx, start=week_ago, end=clock())
    assert jobs.usage_rollup(ctx) == 10
    after = services.usage_between(ctx, start=week_ago, end=clock())
    assert after == before == expected(grants, week_ago, clock())
    assert (after.decisions, after.agents[0].with_lead, after.agents[-2].agreements_given) == (7, 7, 7)
    assert services.home(ctx, user="U0LEE").week == after  # the lead's Home: this week's usage
    assert services.home(ctx, user="U0ANA").week is None
