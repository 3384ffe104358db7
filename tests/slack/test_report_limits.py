"""Reports fit Slack's limits at 500 agents (50 blocks a message, 100 a Home tab, 3,000
characters a text), and a cut table never names anyone for what they haven't done."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot import services
from bot.core.policy import Tier
from bot.core.usage import AgentUsage, GrantedRecord, UsageReport, tally, usage_report
from bot.slack import views
from bot.slack.views.review import INVITED
from storage.models import Decision
from tests.policies import team_policy
from tests.slack.test_views import NOW, make_proposal

AGENTS = tuple(f"U0A{i:03d}" for i in range(500))
LEADS = tuple(f"U0L{i:02d}" for i in range(20))
ACTIVE = 188  # the rest, 312, haven't used their authority yet
TIERS = (Tier.ALONE, Tier.PEER, Tier.LEAD)
DECIDED = Decision(
    proposal_id=7, tier=Tier.PEER, agreed_by="U0BEN", granted_at=NOW, seconds_to_decision=120, reviewed_at=None
)
LONG = "<&>" * 660  # 2,000 characters typed, longer once escaped


def decided(count: int, proposer: str, peer: str) -> list[GrantedRecord]:
    return [
        GrantedRecord(
            proposer=proposer,
            agreed_by=None if i % 3 == 0 else peer,
            tier=TIERS[i % 3],
            amount=Decimal(10 + i % 90),
            unit="USD" if i % 4 else "days",
            fair=Decimal(10 + i % 90) if i % 5 == 0 else None,
            seconds_to_decision=60 * (i % 50),
        )
        for i in range(count)
    ]


def team_of_500() -> UsageReport:
    """A year of a big team: the busiest agent makes 4.4% of the decisions, 312 make none."""
    counts = [880 if rank == 0 else 50 + rank * 37 % 100 for rank in range(ACTIVE)]  # 880 of 19,516: 4.5%
    records = [
        record
        for rank, count in enumerate(counts)
        for record in decided(count, AGENTS[(rank * 7) % ACTIVE], AGENTS[(rank + 1) % ACTIVE])
    ]
    return usage_report(tally(records), AGENTS, leads=LEADS, start=NOW - timedelta(days=365), end=NOW)


def texts(value: Any) -> list[str]:
    """Every piece of text anywhere in a message's blocks."""
    if isinstance(value, dict):
        return [t for key, v in value.items() for t in ([v] if key == "text" and isinstance(v, str) else texts(v))]
    if isinstance(value, list):
        return [t for v in value for t in texts(v)]
    return []


def fits(message: views.Message, blocks: int = 50) -> None:
    rendered = message.as_kwargs()  # slack_sdk checks each section's own text as it renders
    assert len(rendered.get("blocks", [])) <= blocks
    assert len(message.text) <= views.TEXT_LIMIT
    assert all(len(t) <= views.SECTION_LIMIT for t in texts(rendered.get("blocks", []))), "a text is too long"


def test_usage_at_500_agents_fits_one_message() -> None:
    report = team_of_500()
    message = views.usage_message(report)
    fits(message)
    shown = " ".join(texts(message.as_kwargs()["blocks"]))
    assert "Usage over the last 365 days" in shown
    assert f"188 of {len(AGENTS)} agents used their authority" in shown
    assert f"…and {len(AGENTS) + len(LEADS) - views.USAGE_ROWS} more" in shown
    assert f"and {len(AGENTS) - ACTIVE - INVITED} more. An invitation to coach, not a ranking" in shown
    assert "*Asking what's fair*" in shown


def test_a_cut_usage_table_names_no_one_for_what_they_havent_done() -> None:
    report = team_of_500()
    shown = " ".join(texts(views.usage_message(report).as_kwargs()["blocks"]))
    rows = dict(re.findall(r"<@(\w+)>: (\d+) decided", shown))
    assert len(rows) == views.USAGE_ROWS
    assert all(int(n) > 0 for n in rows.values())
    # The ones who decided most: no one left out decided more than anyone shown.
    by_user = {a.user: a.decisions for a in report.agents}
    assert min(int(n) for n in rows.values()) >= max(n for u, n in by_user.items() if u not in rows)
    invited = re.search(r"Not yet using their authority\*: (.*?) and \d+ more", shown)
    assert invited is not None
    assert re.findall(r"<@(\w+)>", invited.group(1)) == list(report.not_yet[:INVITED])
    assert not set(rows) & set(report.not_yet)


def test_the_digest_at_500_agents_is_one_text_with_everything_but_the_whole_table() -> None:
    digest = views.digest_text(team_of_500())
    assert len(digest) <= views.TEXT_LIMIT
    assert digest.startswith("Your weekly Leeway digest")
    assert "more (shown: the" in digest
    assert "An invitation to coach, not a ranking" in digest
    assert "*Asking what's fair*" in digest


def test_a_leads_home_at_500_agents_fits_a_home_tab() -> None:
    review = [(make_proposal(id=i, summary=LONG), DECIDED) for i in range(5)]
    home = services.Home(
        user=LEADS[0],
        is_agent=True,
        is_lead=True,
        pending=[],
        waiting=[],
        recent=[],
        kudos=0,
        review=review,
        review_total=900,
        week=team_of_500(),
    )
    view = views.home(home, team_policy()).to_dict()  # slack_sdk refuses a view of over 100 blocks
    assert all(len(t) <= views.SECTION_LIMIT for t in texts(view["blocks"]))


def test_a_page_of_long_decisions_to_review_fits_one_message() -> None:
    items = [(make_proposal(id=i, summary=LONG, case_ref="#" + "9" * 99), DECIDED) for i in range(10)]
    more_than_counted = services.REVIEW_COUNTED_UP_TO + 1
    fits(views.review_message(items, total=more_than_counted))
    assert views.review_message(items, total=more_than_counted).text == "Decisions to review: 1000+"


@pytest.mark.parametrize(
    ("total", "heading", "footer"),
    [
        (7, "*Decisions to review* (7).", "…and 2 more."),
        (1000, "*Decisions to review* (1000).", "…and 995 more."),
        (
            1001,
            "*Decisions to review* (1000+).",
            "…and more: over 1000 in all, oldest first. No rush: each one stands as decided.",
        ),
    ],
)
def test_the_queue_past_what_is_counted_reads_1000_plus(total: int, heading: str, footer: str) -> None:
    items = [(make_proposal(id=i), DECIDED) for i in range(5)]
    shown = texts([block.to_dict() for block in views.review_blocks(items, total)])
    assert shown[0].startswith(heading)
    assert "never to blame" in shown[0]
    assert shown[-1] == footer


def usage(user: str, decisions: int = 0, agreements: int = 0) -> AgentUsage:
    return AgentUsage(user=user, alone=decisions, agreements_given=agreements)


@pytest.mark.parametrize(
    ("agents", "limit", "shown", "left_out"),
    [
        # Everyone fits: the team in the policy's order, whoever did nothing included.
        ([usage("A", 1), usage("B"), usage("C", 5)], 3, ["A", "B", "C"], 0),
        ([], 3, [], 0),
        # Cut: the most decisions first, then agreements given, ties in the policy's order.
        ([usage("A", 1), usage("B", 5), usage("C", 5), usage("D", 2)], 3, ["B", "C", "D"], 1),
        ([usage("A", 2), usage("B", 2, agreements=3), usage("C"), usage("D", 1)], 2, ["B", "A"], 2),
        # Cut: no one is a row for having done nothing, even with room left.
        ([usage("A"), usage("B", agreements=1), usage("C"), usage("D")], 3, ["B"], 3),
        ([usage("A"), usage("B")], 1, [], 2),
    ],
)
def test_what_a_usage_table_shows(agents: list[AgentUsage], limit: int, shown: list[str], left_out: int) -> None:
    rows, more = views.usage_table(agents, limit)
    assert ([a.user for a in rows], more) == (shown, left_out)


def test_a_table_that_fits_is_the_whole_team() -> None:
    start = datetime(2026, 11, 16, tzinfo=UTC)
    report = usage_report(
        tally(decided(3, "U0ANA", "U0BEN")), ["U0ANA", "U0BEN"], start=start, end=start + timedelta(7)
    )
    rows = views.usage_rows(report)
    assert [r.split(":")[0] for r in rows] == ["• <@U0ANA>", "• <@U0BEN>"]
