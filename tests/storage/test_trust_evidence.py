"""The evidence for raising limits, as the database counts it in one pass over the trust window:
the same figures as counting each group's decisions by hand, at every size around the median's
and the covering amount's places, on both databases."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from bot.core.policy import Tier
from bot.core.trust import COVERING, Evidence
from bot.core.vocabulary import ReviewOutcome
from storage import queries
from storage.batch import DecisionRow, Rows
from storage.queries import limits
from tests.storage.test_storage import T0, make_proposal

SINCE = T0 - timedelta(days=30)
Grant = tuple[str, str, Tier, Decimal, ReviewOutcome | None]  # proposer, remedy, tier, amount, review


def grant(
    session: Session,
    proposer: str,
    remedy_id: str,
    tier: Tier,
    amount: Decimal,
    review: ReviewOutcome | None,
    *,
    at: datetime = T0,
) -> None:
    decision = DecisionRow(tier=tier, agreed_by="U0PEER", granted_at=at, seconds_to_decision=60)
    proposal = make_proposal(
        session,
        status="granted",
        proposer=proposer,
        remedy_id=remedy_id,
        tier=tier,
        amount=amount,
        asked="U0PEER",
        rows=Rows(decisions=(decision,)),
    )
    if review is not None:
        assert queries.record_review(session, proposal_id=proposal.id, at=T0, by="U0LEE", outcome=review, note=None)


def by_hand(grants: list[Grant], remedy_id: str, tier: Tier) -> Evidence:
    amounts = sorted(a for _, r, t, a, _ in grants if (r, t) == (remedy_id, tier))
    reviews = [v for _, r, t, _, v in grants if (r, t) == (remedy_id, tier)]
    return Evidence(
        remedy_id=remedy_id,
        tier=tier,
        decisions=len(amounts),
        reviewed=sum(v is not None for v in reviews),
        talk=sum(v is ReviewOutcome.TALK for v in reviews),
        median=amounts[(len(amounts) - 1) // 2],
        covering=amounts[math.ceil(len(amounts) * COVERING) - 1],
    )


@pytest.mark.parametrize("size", [1, 2, 3, 9, 10, 11, 19, 20, 21, 31])
def test_the_team_evidence_is_what_counting_by_hand_gives(session: Session, size: int) -> None:
    draw = random.Random(size)
    grants: list[Grant] = []
    for remedy_id, tier, n in [
        ("refund", Tier.PEER, size),
        ("refund", Tier.LEAD, size + 3),
        ("goodwill", Tier.PEER, 2 * size),
    ]:
        for _ in range(n):
            amount = Decimal(draw.choice(["10.00", "12.50", "40.00", "40.00", "99.99", "120.00"]))
            review = draw.choice([None, None, ReviewOutcome.LOOKS_GOOD, ReviewOutcome.TALK])
            grants.append((draw.choice(["U0ANA", "U0BEN"]), remedy_id, tier, amount, review))
    draw.shuffle(grants)
    for g in grants:
        grant(session, *g)
    # Outside the evidence: decisions made alone, and those at or before the window's start.
    grant(session, "U0ANA", "refund", Tier.ALONE, Decimal("1.00"), None)
    grant(session, "U0ANA", "refund", Tier.PEER, Decimal("999.00"), None, at=SINCE)

    found = limits.trust_evidence(session, since=SINCE, at_least=1)

    assert found == [
        by_hand(grants, "goodwill", Tier.PEER),
        by_hand(grants, "refund", Tier.LEAD),
        by_hand(grants, "refund", Tier.PEER),
    ]
    assert [e.decisions for e in limits.trust_evidence(session, since=SINCE, at_least=size + 1)] == [2 * size, size + 3]


def test_personal_evidence_is_an_agents_own_decisions_with_a_peer_all_reviewed_well(session: Session) -> None:
    clean: list[Grant] = [
        ("U0ANA", "refund", Tier.PEER, Decimal(a), ReviewOutcome.LOOKS_GOOD) for a in ["30", "10", "20", "60", "45"]
    ]
    for g in clean:
        grant(session, *g)
    grant(session, "U0ANA", "refund", Tier.LEAD, Decimal("400"), None)  # with a lead: not theirs to raise
    for amount in ["30", "10", "20", "60"]:  # Ben's have one not reviewed, Cho's one talk
        grant(session, "U0BEN", "refund", Tier.PEER, Decimal(amount), ReviewOutcome.LOOKS_GOOD)
        grant(session, "U0CHO", "refund", Tier.PEER, Decimal(amount), ReviewOutcome.LOOKS_GOOD)
    grant(session, "U0BEN", "refund", Tier.PEER, Decimal("5"), None)
    grant(session, "U0CHO", "refund", Tier.PEER, Decimal("5"), ReviewOutcome.TALK)
    grant(session, "U0DAN", "refund", Tier.PEER, Decimal("5"), ReviewOutcome.LOOKS_GOOD)  # too few

    found = limits.personal_evidence(session, since=SINCE, at_least=3)

    assert found == [("U0ANA", by_hand(clean, "refund", Tier.PEER))]
    assert found[0][1].median == Decimal("30.00")
    assert found[0][1].covering == Decimal("60.00")
