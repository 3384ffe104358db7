"""Encouragement in words: the precedent, what to tell the customer, the welcome, the nudge,
and the one number leads see."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.core.lifecycle import Status
from bot.core.policy import Tier
from bot.core.usage import Tallies, usage_report
from bot.policy_file import parse_policy
from bot.slack import views
from storage.models import Proposal
from tests.policies import AGENTS, TEAM_POLICY, team_policy

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)  # a Tuesday


def asked(amount: str, count: int | None, median: str | None, unit: str = "USD") -> Proposal:
    return Proposal(
        id=1,
        status=Status.PENDING,
        remedy_id="refund",
        remedy_label="Refund",
        unit=unit,
        amount=Decimal(amount),
        case_ref="#1",
        summary="x",
        tier=Tier.PEER,
        proposer="U0ANA",
        asked="U0BEN",
        created_at=NOW,
        precedent_count=count,
        precedent_median=Decimal(median) if median else None,
    )


@pytest.mark.parametrize(
    ("proposal", "line"),
    [
        (asked("60", 14, "25"), "The team granted 14 of these in the last 30 days, median $25; this one is $60."),
        (asked("60", 2, "22.50"), "The team granted 2 of these in the last 30 days, median $22.50; this one is $60."),
        (asked("60", 1, "25"), "The team granted 1 of these in the last 30 days, for $25; this one is $60."),
        (
            asked("10", 3, "7", "days"),
            "The team granted 3 of these in the last 30 days, median 7 days; this one is 10 days.",
        ),
        (asked("60", 0, None), "The first of these for the team in the last 30 days."),
        (asked("60", None, None), None),  # asked before Leeway kept it
    ],
)
def test_the_precedent_in_words(proposal: Proposal, line: str | None) -> None:
    assert views.precedent_line(proposal) == line


def test_what_to_tell_the_customer_comes_from_the_policy_escaped() -> None:
    policy = parse_policy(
        TEAM_POLICY.replace(
            "    lead_up_to: 500\n", "    lead_up_to: 500\n    tell_customer: Back in <5 days & free\n", 1
        )
    )
    assert (
        views.tell_customer_line(policy, "refund")
        == ":speech_balloon: *Tell the customer:* Back in &lt;5 days &amp; free"
    )
    assert views.tell_customer_line(policy, "late_fee") is None
    assert views.tell_customer_line(policy, "gone") is None


def test_the_welcome_says_what_they_may_grant_per_remedy_and_how() -> None:
    text = views.welcome(team_policy(), "U0ANA").text
    assert text.startswith(":wave: *Welcome to Leeway, <@U0ANA>!*")
    for line in (
        "• Refund: on your own up to *$50* · with a peer up to *$150* · with a lead up to *$500*",
        "• Waive a late fee: on your own up to *$20* · with a peer up to *$100* · with a lead up to *$300*",
        "• Extend a course: on your own up to *7 days* · with a peer up to *30 days* · with a lead up to *90 days*",
        "• Free meal: on your own up to *$25* · with a lead up to *$60*",
    ):
        assert line in text.splitlines()
    assert "`/remedy refund 50 #4711 what happened, in a few words`" in text
    assert "No one ever pays for a decision made in good faith" in text
    assert "As a lead" in views.welcome(team_policy(), "U0LEE", lead=True).text


@pytest.mark.parametrize(
    ("granted", "words"),
    [
        (datetime(2026, 12, 8, 9, 0, tzinfo=UTC), "today"),
        (datetime(2026, 12, 7, 17, 0, tzinfo=UTC), "yesterday"),
        (datetime(2026, 12, 3, 17, 0, tzinfo=UTC), "on Thursday"),
        (datetime(2026, 11, 24, 9, 0, tzinfo=UTC), "on 24 Nov"),
    ],
)
def test_when_a_teammates_grant_was(granted: datetime, words: str) -> None:
    assert views.day_words(granted, NOW, UTC) == words  # type: ignore[arg-type]


def test_a_nudge_names_a_teammates_recent_grant_and_offers_to_stop() -> None:
    example = {
        "proposer": "U0BEN",
        "remedy_id": "late_fee",
        "remedy_label": "Waive a late fee",
        "amount": "15.00",
        "unit": "USD",
        "granted_at": datetime(2026, 12, 2, 11, 0, tzinfo=UTC).isoformat(),
    }
    nudge = views.nudge(team_policy(), "U0ANA", example, nudge_id=42, at=NOW)
    assert "<@U0BEN> granted *Waive a late fee: $15* on their own on Wednesday; you can too, up to $20." in nudge.text
    assert "Only you can see this." in nudge.text
    (button,) = nudge.as_kwargs()["blocks"][1]["elements"]
    assert (button["text"]["text"], button["action_id"], button["value"]) == (
        "No more of these",
        "no_more_nudges",
        "42",
    )
    plain = views.nudge(team_policy(), "U0ANA", {}, nudge_id=43, at=NOW).text
    assert "On your own you may grant Refund up to $50, Waive a late fee up to $20" in plain
    assert "<@U0BEN>" not in plain


def test_leads_see_a_number_of_nudges_never_names() -> None:
    assert views.nudged_line(0) is None
    assert views.nudged_line(1) == (
        "1 agent was nudged this week, privately, to use their authority. Who is between them and Leeway."
    )
    report = usage_report(Tallies(), AGENTS, start=NOW, end=NOW)
    digest = views.digest_text(report, footer=[views.nudged_line(3) or ""])
    assert digest.splitlines()[-1].startswith("3 agents were nudged this week")
