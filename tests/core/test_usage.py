import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.policy import Tier
from bot.core.usage import (
    TIME_STEPS,
    GrantedRecord,
    OutcomeCount,
    Tallies,
    outcome_counts,
    tally,
    time_step,
    usage_report,
)
from bot.core.vocabulary import CustomerOutcome
from bot.slack.views.markup import duration

START, END = datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC)


def granted(
    proposer: str,
    tier: Tier,
    amount: str,
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


def test_per_agent_figures_and_the_teams_share() -> None:
    records = [
        granted("U0ANA", Tier.ALONE, "30", fair="25"),
        granted("U0ANA", Tier.PEER, "90", agreed_by="U0BEN", seconds=120, fair="90"),
        granted("U0ANA", Tier.LEAD, "300", agreed_by="U0LEE", seconds=600),
        granted("U0BEN", Tier.ALONE, "5", unit="days"),
    ]
    report = usage_report(tally(records), ["U0ANA", "U0BEN", "U0CHO"], start=START, end=END)
    ana, ben, cho = report.agents
    assert (ana.alone, ana.with_peer, ana.with_lead, ana.decisions) == (1, 1, 1, 3)
    assert ana.value == {"USD": Decimal("420")}
    assert ana.median_seconds == 120
    assert (ben.decisions, ben.agreements_given, ben.value) == (1, 1, {"days": Decimal("5")})
    assert cho.decisions == 0
    assert cho.median_seconds is None
    assert report.not_yet == ("U0CHO",)
    assert (report.used, report.team_size, round(report.share, 2)) == (2, 3, 0.67)
    assert report.decisions == 4
    assert report.people_deciding == 2
    # Where customers named a fair figure: $120 granted against $115 they'd have taken.
    assert report.fair_count == 2
    assert report.granted_where_fair == {"USD": Decimal("120")}
    assert report.fair_figures == {"USD": Decimal("115")}


def test_an_empty_week_invites_everyone() -> None:
    report = usage_report(tally([]), ["U0ANA", "U0BEN"], start=START, end=END)
    assert report.not_yet == ("U0ANA", "U0BEN")
    assert report.share == 0.0
    assert report.decisions == 0


def test_agreements_by_leads_are_counted_for_them() -> None:
    report = usage_report(
        tally([granted("U0ANA", Tier.LEAD, "300", agreed_by="U0LEE")]), ["U0ANA", "U0LEE"], start=START, end=END
    )
    assert report.agents[1].agreements_given == 1
    assert report.not_yet == ("U0LEE",)


def test_the_customers_figure_taken_or_not_and_leads_who_decide() -> None:
    records = [
        granted("U0ANA", Tier.ALONE, "25", fair="25"),  # the customer's own figure
        granted("U0ANA", Tier.PEER, "90", agreed_by="U0BEN", fair="60"),
        granted("U0LEE", Tier.ALONE, "10"),  # a lead deciding
    ]
    report = usage_report(tally(records), ["U0ANA", "U0BEN"], leads=["U0LEE"], start=START, end=END)
    assert (report.fair_count, report.fair_taken, report.fair_taken_value) == (2, 1, {"USD": Decimal("25")})
    assert [a.user for a in report.agents] == ["U0ANA", "U0BEN", "U0LEE"]
    assert report.agents[2].decisions == 1
    assert report.people_deciding == 2
    assert report.team_size == 2
    assert report.not_yet == ("U0BEN",)


@pytest.mark.parametrize(
    ("seconds", "median"),
    [
        ([0, 120, 600], 120),  # odd: the middle decision's step (2 min) starts at its own figure
        ([30, 130, 700], 120),  # 130 s lies in the step from 2 min to 3 min
        ([60, 125, 700, 800], 120),  # even: the lower middle one (125 s), not their mean
        ([0, 0, 0, 5000], 0),  # mostly alone: "instantly"
        ([4000, 4100], 3600),  # 1 h 6 min and 1 h 8 min: the step from 1 h to 1 h 15 min
        ([10 * 86400], 10 * 86400),
        ([365 * 86400], 90 * 86400),  # the last step is open
    ],
)
def test_the_median_is_the_step_the_middle_decision_falls_in(seconds: list[int], median: int) -> None:
    records = [granted("U0ANA", Tier.PEER, "10", agreed_by="U0BEN", seconds=s) for s in seconds]
    (ana,) = usage_report(tally(records), ["U0ANA"], start=START, end=END).agents
    assert ana.median_seconds == median


def test_every_step_starts_at_a_figure_the_report_shows_exactly() -> None:
    assert tuple(sorted(set(TIME_STEPS))) == TIME_STEPS
    shown = [duration(step) for step in TIME_STEPS]
    assert len(set(shown)) == len(shown)  # no two steps read the same
    assert shown[:3] == ["instantly", "1 s", "2 s"]
    assert "1 h 15 min" in shown
    assert "1 d 6 h" in shown
    for lower, upper in itertools.pairwise(TIME_STEPS[TIME_STEPS.index(3) :]):
        # A step ends at most a third past its start, but where the report shows whole minutes.
        assert upper <= lower * 4 / 3 or lower in (60, 120)
    for lower, upper in itertools.pairwise(TIME_STEPS):
        assert time_step(lower) == lower
        assert time_step(upper - 1) == lower
    assert time_step(-5) == 0


RECORD = st.builds(
    granted,
    proposer=st.sampled_from(["U0ANA", "U0BEN", "U0LEE", "U0GONE"]),
    tier=st.sampled_from([Tier.ALONE, Tier.PEER, Tier.LEAD]),  # only these are granted
    amount=st.integers(1, 500).map(str),
    agreed_by=st.sampled_from([None, "U0ANA", "U0BEN", "U0LEE"]),
    unit=st.sampled_from(["USD", "days"]),
    fair=st.one_of(st.none(), st.integers(1, 500).map(str)),
    seconds=st.integers(0, 10 * 86400),
)


@given(st.lists(RECORD, max_size=40), st.lists(st.integers(0, 40), max_size=4))
def test_tallies_of_spans_add_up_to_the_tallies_of_the_whole(records: list[GrantedRecord], cuts: list[int]) -> None:
    """However the decisions are split into spans (days, edges), the report is the same."""
    bounds = [0, *sorted(c for c in cuts if c <= len(records)), len(records)]
    spans = [tally(records[a:b]) for a, b in itertools.pairwise(bounds)]
    whole = usage_report(tally(records), ["U0ANA", "U0BEN"], leads=["U0LEE"], start=START, end=END)
    parts = usage_report(sum(spans, Tallies()), ["U0ANA", "U0BEN"], leads=["U0LEE"], start=START, end=END)
    assert parts == whole
    assert whole.decisions == len(records)
    assert whole.people_deciding == len({r.proposer for r in records})
    for agent in whole.agents:
        theirs = [r for r in records if r.proposer == agent.user]
        assert agent.decisions == len(theirs)
        assert agent.value == {
            unit: sum((r.amount for r in theirs if r.unit == unit), Decimal(0)) for unit in {r.unit for r in theirs}
        }
        times = sorted(r.seconds_to_decision for r in theirs)
        assert agent.median_seconds == (time_step(times[(len(times) - 1) // 2]) if times else None)


def test_outcomes_are_counted_per_remedy_in_the_order_given() -> None:
    counts = outcome_counts(
        [
            ("refund", "Refund", CustomerOutcome.DELIGHTED, 3),
            ("refund", "Refund", CustomerOutcome.UNHAPPY, 1),
            ("late_fee", "Waive a late fee", CustomerOutcome.OK, 2),
        ]
    )
    assert counts == (
        OutcomeCount("Refund", delighted=3, unhappy=1),
        OutcomeCount("Waive a late fee", ok=2),
    )
