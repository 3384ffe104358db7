"""The decisions of a period, read for an export: every proposal that ended, oldest first, with
how it was agreed, its review and how the customer took it; on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from bot import services
from bot.core.authority import Roster
from bot.core.lifecycle import Status
from bot.core.policy import Tier
from bot.core.vocabulary import CustomerOutcome, OutboxKind, ReviewOutcome, Via
from storage.db import make_sessions
from storage.models import Approval, Decision, OutboxMessage
from tests.policies import team_policy
from tests.storage.test_storage import make_proposal
from tests.support import FakeClock, wipe

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
ROSTER = Roster(agents=("U0ANA", "U0BEN"), leads=("U0LEE",), bot_user="U0BOT")


@pytest.fixture
def ctx(engine: Engine) -> Iterator[services.Context]:
    wipe(engine)
    yield services.Context(
        base_policy=team_policy(), roster=lambda: ROSTER, sessions=make_sessions(engine), clock=FakeClock(NOW)
    )
    wipe(engine)


def ended(ctx: services.Context, *, hours_ago: float, status: Status = Status.GRANTED, **facts: object) -> int:
    at = NOW - timedelta(hours=hours_ago)
    with ctx.sessions.begin() as session:
        values: dict[str, object] = {"decided_by": "U0BEN", **facts}
        proposal = make_proposal(session, status=status, created_at=at - timedelta(minutes=5), decided_at=at, **values)
        if status == Status.GRANTED:
            session.add(Approval(proposal_id=proposal.id, approver="U0BEN", via=Via.REACTION, at=at))
            session.add(
                Decision(
                    proposal_id=proposal.id,
                    tier=Tier.PEER,
                    agreed_by="U0BEN",
                    granted_at=at,
                    seconds_to_decision=300,
                    review_outcome=ReviewOutcome.TALK,
                    reviewed_at=at,
                    outcome=CustomerOutcome.UNHAPPY,
                    outcome_at=at,
                )
            )
        return proposal.id


def test_every_ended_proposal_of_the_period_oldest_first_and_no_pending_one(ctx: services.Context) -> None:
    granted = ended(ctx, hours_ago=3, case_ref="#1")
    declined = ended(ctx, hours_ago=5, status=Status.DECLINED, case_ref="#2")
    expired = ended(ctx, hours_ago=4, status=Status.EXPIRED, case_ref="#3", decided_by=None)
    ended(ctx, hours_ago=24 * 40, case_ref="#old")
    with ctx.sessions.begin() as session:
        make_proposal(session, created_at=NOW, case_ref="#pending")

    rows = services.decisions_between(ctx, since=NOW - timedelta(days=30))

    assert [r.id for r in rows] == [declined, expired, granted]
    first, second, third = rows
    assert (first.status, first.via, first.review, first.customer_outcome) == (Status.DECLINED, None, None, None)
    assert (second.status, second.decided_by) == (Status.EXPIRED, None)
    assert (third.via, third.review, third.customer_outcome) == (
        Via.REACTION,
        ReviewOutcome.TALK,
        CustomerOutcome.UNHAPPY,
    )
    assert (third.remedy_id, third.remedy, third.amount, third.unit, third.case_ref) == (
        "refund",
        "Refund",
        Decimal("40.00"),
        "USD",
        "#1",
    )
    assert third.decided_at == NOW - timedelta(hours=3)


def test_the_period_includes_both_ends_and_the_limit_keeps_the_oldest(ctx: services.Context) -> None:
    ids = [ended(ctx, hours_ago=h) for h in (4, 3, 2, 1)]
    since, until = NOW - timedelta(hours=3), NOW - timedelta(hours=2)
    assert [r.id for r in services.decisions_between(ctx, since=since, until=until)] == ids[1:3]
    assert [r.id for r in services.decisions_between(ctx, since=NOW - timedelta(days=1), limit=2)] == ids[:2]


def test_only_a_lead_may_ask_for_an_export_and_a_repeat_owes_it_once(ctx: services.Context) -> None:
    refused = services.request_export(ctx, user="U0ANA", days=30, key="t1")
    assert refused == services.Refused("Only leads can export decisions. Your own are on your Home tab.")
    assert services.request_export(ctx, user="U0LEE", days=7, key="t2") == services.ExportOnItsWay(7)
    assert services.request_export(ctx, user="U0LEE", days=7, key="t2") == services.ExportOnItsWay(7)
    with ctx.sessions() as session:
        owed = session.query(OutboxMessage).filter(OutboxMessage.kind == OutboxKind.EXPORT).all()
    assert [(m.channel, m.detail) for m in owed] == [
        ("U0LEE", {"since": (NOW - timedelta(days=7)).isoformat(), "until": NOW.isoformat(), "days": 7})
    ]
