from datetime import UTC, datetime
from decimal import Decimal

from bot.core.policy import Tier
from bot.core.usage import GrantedRecord, usage_report

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
    report = usage_report(records, ["U0ANA", "U0BEN", "U0CHO"], start=START, end=END)
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
    report = usage_report([], ["U0ANA", "U0BEN"], start=START, end=END)
    assert report.not_yet == ("U0ANA", "U0BEN")
    assert report.share == 0.0
    assert report.decisions == 0


def test_agreements_by_leads_are_counted_for_them() -> None:
    report = usage_report(
        [granted("U0ANA", Tier.LEAD, "300", agreed_by="U0LEE")], ["U0ANA", "U0LEE"], start=START, end=END
    )
    assert report.agents[1].agreements_given == 1
    assert report.not_yet == ("U0LEE",)


def test_the_customers_figure_taken_or_not_and_leads_who_decide() -> None:
    records = [
        granted("U0ANA", Tier.ALONE, "25", fair="25"),  # the customer's own figure
        granted("U0ANA", Tier.PEER, "90", agreed_by="U0BEN", fair="60"),
        granted("U0LEE", Tier.ALONE, "10"),  # a lead deciding
    ]
    report = usage_report(records, ["U0ANA", "U0BEN"], leads=["U0LEE"], start=START, end=END)
    assert (report.fair_count, report.fair_taken, report.fair_taken_value) == (2, 1, {"USD": Decimal("25")})
    assert [a.user for a in report.agents] == ["U0ANA", "U0BEN", "U0LEE"]
    assert report.agents[2].decisions == 1
    assert report.people_deciding == 2
    assert report.team_size == 2
    assert report.not_yet == ("U0BEN",)
