"""Encouragement's pure rules: the median's place, the welcome's example, who is due a nudge,
the nudge's example, and the policy keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.core.encouragement import (
    Example,
    Seen,
    due_for_nudge,
    example_command,
    median,
    pick_example,
)
from bot.policy_file import PolicyError, parse_policy
from tests.policies import TEAM_POLICY, team_policy

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
TWO_WEEKS = timedelta(days=14)


@pytest.mark.parametrize(
    ("amounts", "middle"),
    [
        ([], None),
        (["25"], "25.00"),
        (["60", "10", "25"], "25.00"),
        (["60", "10", "25", "20"], "22.50"),
        (["5"] * 7 + ["100"] * 6, "5.00"),
    ],
)
def test_the_median_is_the_middle_amount(amounts: list[str], middle: str | None) -> None:
    assert median([Decimal(a) for a in amounts]) == (Decimal(middle) if middle else None)


def test_the_welcomes_example_is_within_the_agents_own_authority() -> None:
    assert example_command(team_policy()) == "/remedy refund 50 #4711 what happened, in a few words"
    no_alone = parse_policy(TEAM_POLICY.replace("alone_up_to: 50", "alone_up_to: 0"))
    assert example_command(no_alone) == "/remedy late_fee 20 #4711 what happened, in a few words"


def seen(days_ago: float, *, nudged_days_ago: float | None = None, off: bool = False) -> Seen:
    nudged = NOW - timedelta(days=nudged_days_ago) if nudged_days_ago is not None else None
    return Seen(first_seen_at=NOW - timedelta(days=days_ago), last_nudged_at=nudged, nudges_off=off)


@pytest.mark.parametrize(
    ("known", "proposed", "away", "due"),
    [
        (seen(30), False, False, True),  # here a month, never proposed
        (None, False, False, False),  # not seen yet: welcomed first
        (seen(13), False, False, False),  # new: the welcome is enough for now
        (seen(14), False, False, True),  # exactly the period
        (seen(30), True, False, False),  # proposed lately
        (seen(30), False, True, False),  # away
        (seen(30, nudged_days_ago=13), False, False, False),  # nudged this period
        (seen(30, nudged_days_ago=14), False, False, True),  # a period later
        (seen(30, off=True), False, False, False),  # asked for no more
    ],
)
def test_who_is_due_a_nudge(known: Seen | None, proposed: bool, away: bool, due: bool) -> None:
    found = due_for_nudge(
        ["U0ANA"],
        seen={"U0ANA": known} if known else {},
        proposed_since={"U0ANA"} if proposed else set(),
        away={"U0ANA"} if away else set(),
        now=NOW,
        after=TWO_WEEKS,
    )
    assert found == (["U0ANA"] if due else [])


def test_leads_are_never_nudged_and_agents_keep_the_rosters_order() -> None:
    everyone = {u: seen(30) for u in ("U0CHO", "U0ANA", "U0LEE")}
    found = due_for_nudge(
        ["U0CHO", "U0ANA", "U0LEE"],
        seen=everyone,
        proposed_since=(),
        away=(),
        leads=("U0LEE",),
        now=NOW,
        after=TWO_WEEKS,
    )
    assert found == ["U0CHO", "U0ANA"]


def example(proposer: str, remedy_id: str = "late_fee") -> Example:
    return Example(
        proposer=proposer,
        remedy_id=remedy_id,
        remedy_label="Waive a late fee",
        amount=Decimal(15),
        unit="USD",
        granted_at=NOW - timedelta(days=1),
    )


def test_a_nudges_example_is_someone_elses_of_a_remedy_still_granted_alone() -> None:
    policy = team_policy()
    recent = [example("U0ANA"), example("U0BEN", "gone"), example("U0CHO"), example("U0DAN")]
    assert pick_example(recent, policy, for_agent="U0ANA") == recent[2]
    assert pick_example(recent[:2], policy, for_agent="U0ANA") is None


def with_refund(line: str) -> str:
    return TEAM_POLICY.replace("    lead_up_to: 500\n", f"    lead_up_to: 500\n    {line}\n", 1)


def test_tell_customer_is_kept_as_written() -> None:
    policy = parse_policy(with_refund('tell_customer: "Back to the card: within 5 business days."'))
    refund = policy.remedy("refund")
    assert refund is not None
    assert refund.tell_customer == "Back to the card: within 5 business days."
    assert team_policy().remedy("refund").tell_customer is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("tell_customer: 5", "line 12: remedies[0].tell_customer: write what the agent tells the customer as text"),
        ('tell_customer: ""', "remedies[0].tell_customer: is empty"),
        ("tell_customer:", "remedies[0].tell_customer: is empty"),
        (f"tell_customer: {'x' * 501}", "is 501 characters; keep it under 500"),
        ('tell_customer: "tab\\there"', "has a control character"),
    ],
)
def test_a_bad_tell_customer_is_named_with_its_line(line: str, says: str) -> None:
    with pytest.raises(PolicyError) as error:
        parse_policy(with_refund(line))
    assert says in str(error.value)


def test_welcome_and_nudges_are_on_unless_turned_off() -> None:
    policy = team_policy()
    assert policy.welcome is True
    assert policy.nudge_after == TWO_WEEKS
    quiet = parse_policy(TEAM_POLICY + "welcome: off\nnudge_after: off\n")
    assert quiet.welcome is False
    assert quiet.nudge_after is None
    assert parse_policy(TEAM_POLICY + 'welcome: "on"\nnudge_after: 7d\n').nudge_after == timedelta(days=7)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("welcome: maybe", "welcome: 'maybe': write on or off"),
        ("nudge_after: 2h", "nudge_after: must be at least 1d"),
        ("nudge_after: soon", "nudge_after: 'soon' is not a duration"),
        ("nudge_after: on", "nudge_after: True: write a duration like 14d, or off"),
    ],
)
def test_bad_welcome_and_nudge_keys_say_how_to_write_them(line: str, says: str) -> None:
    with pytest.raises(PolicyError) as error:
        parse_policy(TEAM_POLICY + line + "\n")
    assert says in str(error.value)
