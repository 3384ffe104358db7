"""Proposals from the company's own systems: a customer serving themselves, a customer's request
taken up by an agent, and a helpdesk proposing for an agent. On both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from bot import services
from bot.core.authority import Roster
from bot.core.lifecycle import Status
from bot.core.policy import Tier
from bot.core.vocabulary import OutboxKind, RequestedBy, Via
from bot.policy_file import parse_policy
from bot.services.product import ProductOrder, ProductRefused, propose_from_product, standing
from storage import db, queries
from storage.db import make_sessions
from storage.models import OutboxMessage, Proposal
from tests.policies import TEAM_POLICY
from tests.support import FakeClock, wipe

# late_fee: the customer serves themselves up to $15; alone 20, peer 100, lead 300.
POLICY = parse_policy(
    TEAM_POLICY.replace("    alone_up_to: 20\n", "    customer_up_to: 15\n    alone_up_to: 20\n"), source="p.yml"
)
ROSTER = Roster(agents=("U0ANA", "U0BEN", "U0CHO"), leads=("U0LEE",), bot_user="U0BOT")
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def ctx(engine: Engine) -> Iterator[services.Context]:
    wipe(engine)
    yield services.Context(
        base_policy=POLICY, roster=lambda: ROSTER, sessions=make_sessions(engine), clock=FakeClock(T0)
    )
    wipe(engine)


def order(amount: str, *, case: str = "#4711", by: RequestedBy = RequestedBy.CUSTOMER, **more: object) -> ProductOrder:
    values: dict[str, object] = {
        "integration": "Acme Shop",
        "remedy_id": "late_fee",
        "amount": Decimal(amount),
        "case_ref": case,
        "what_happened": "I paid on time but the bank was slow",
        "fair": Decimal(amount),
        "requested_by": by,
        "agent": None,
        "customer_id": "C-8812",
        "customer_name": "Dana Lee",
        **more,
    }
    return ProductOrder(**values)  # type: ignore[arg-type]


def owed(ctx: services.Context, proposal_id: int) -> list[OutboxKind]:
    with db.reading(ctx.sessions) as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.proposal_id == proposal_id))
        return sorted(OutboxKind(m.kind) for m in rows)


def test_within_the_customer_tier_it_is_granted_at_once_and_recorded_not_celebrated(ctx: services.Context) -> None:
    answer = propose_from_product(ctx, order("15"), source_key="api:1:a")
    assert (answer.status, answer.tier, answer.proposer, answer.requested_by) == (
        Status.GRANTED,
        Tier.CUSTOMER,
        None,
        RequestedBy.CUSTOMER,
    )
    assert answer.decided_at == T0
    assert owed(ctx, answer.id) == [OutboxKind.DECISION]  # the record; no kudos, no request
    with db.reading(ctx.sessions) as session:
        proposal = queries.get_proposal(session, proposal_id=answer.id)
        assert proposal is not None
        assert (proposal.integration, proposal.customer_id, proposal.customer_name) == (
            "Acme Shop",
            "C-8812",
            "Dana Lee",
        )
        decision = queries.decision_of(session, proposal_id=answer.id)
        assert decision is not None
        assert decision.tier == Tier.CUSTOMER
        assert queries.review_queue(session, limit=10) == []  # no agent to look back with
    assert standing(ctx, answer.id) == answer


def test_the_same_source_key_records_nothing_new(ctx: services.Context) -> None:
    first = propose_from_product(ctx, order("10"), source_key="api:1:same")
    again = propose_from_product(ctx, order("10"), source_key="api:1:same")
    assert again == first
    assert owed(ctx, first.id) == [OutboxKind.DECISION]


def test_the_same_source_key_at_once_records_one(ctx: services.Context) -> None:
    answers: list[int] = []

    def send() -> None:
        answers.append(propose_from_product(ctx, order("30"), source_key="api:1:race").id)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(answers)) == 1
    assert owed(ctx, answers[0]) == [OutboxKind.REQUEST]


def test_the_case_counts_toward_the_customer_tier(ctx: services.Context) -> None:
    propose_from_product(ctx, order("10"), source_key="api:1:a")
    second = propose_from_product(ctx, order("10"), source_key="api:1:b")  # $20 on the case: above $15
    assert (second.status, second.tier, second.proposer) == (Status.PENDING, Tier.ALONE, None)


def test_above_the_customer_tier_it_waits_for_an_agent_to_take_it_up(ctx: services.Context) -> None:
    answer = propose_from_product(ctx, order("18"), source_key="api:1:a")
    assert (answer.status, answer.proposer) == (Status.PENDING, None)
    assert owed(ctx, answer.id) == [OutboxKind.REQUEST]
    taken = services.take_up(ctx, proposal_id=answer.id, user="U0BEN", via=Via.BUTTON)
    assert isinstance(taken, services.Granted)  # $18 is within Ben's own authority
    now = standing(ctx, answer.id)
    assert now is not None
    assert (now.status, now.tier, now.proposer, now.decided_by) == (Status.GRANTED, Tier.ALONE, "U0BEN", "U0BEN")
    assert owed(ctx, answer.id) == sorted(
        [OutboxKind.REQUEST, OutboxKind.REQUEST_UPDATE, OutboxKind.DECISION, OutboxKind.KUDOS, OutboxKind.PROPOSER_NOTE]
    )
    again = services.take_up(ctx, proposal_id=answer.id, user="U0CHO", via=Via.BUTTON)
    assert isinstance(again, services.AlreadyDecided)


def test_above_the_agents_authority_it_goes_on_to_a_peer_who_agrees(ctx: services.Context) -> None:
    answer = propose_from_product(ctx, order("60"), source_key="api:1:a")
    taken = services.take_up(ctx, proposal_id=answer.id, user="U0BEN", via=Via.REACTION)
    assert isinstance(taken, services.Asked)
    assert taken.proposal.proposer == "U0BEN"
    assert taken.proposal.tier == Tier.PEER
    assert taken.proposal.asked not in (None, "U0BEN")
    assert isinstance(services.agree(ctx, proposal_id=answer.id, user="U0BEN", via=Via.BUTTON), services.Refused)
    agreed = services.agree(ctx, proposal_id=answer.id, user="U0CHO", via=Via.BUTTON)
    assert isinstance(agreed, services.Granted)
    now = standing(ctx, answer.id)
    assert now is not None
    assert (now.status, now.tier, now.proposer, now.decided_by) == (Status.GRANTED, Tier.PEER, "U0BEN", "U0CHO")


def test_two_agents_at_once_one_takes_it(ctx: services.Context) -> None:
    answer = propose_from_product(ctx, order("18"), source_key="api:1:a")
    results: dict[str, services.TakeResult] = {}

    def take(user: str) -> None:
        results[user] = services.take_up(ctx, proposal_id=answer.id, user=user, via=Via.BUTTON)

    threads = [threading.Thread(target=take, args=(u,)) for u in ("U0ANA", "U0BEN", "U0CHO")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [u for u, r in results.items() if isinstance(r, services.Granted)]
    assert len(winners) == 1
    assert all(
        isinstance(r, services.AlreadyTaken | services.AlreadyDecided) for u, r in results.items() if u not in winners
    )


def test_a_reaction_on_a_waiting_request_takes_it_up_and_no_one_may_decline_it_untaken(ctx: services.Context) -> None:
    answer = propose_from_product(ctx, order("18"), source_key="api:1:a")
    assert isinstance(services.decline(ctx, proposal_id=answer.id, user="U0BEN", reason=None), services.Refused)
    assert isinstance(services.take_up(ctx, proposal_id=answer.id, user="U0BOT", via=Via.BUTTON), services.Refused)
    assert isinstance(services.take_up(ctx, proposal_id=answer.id, user="U0NOBODY", via=Via.BUTTON), services.Refused)
    result = services.agree(ctx, proposal_id=answer.id, user="U0CHO", via=Via.REACTION)
    assert isinstance(result, services.Granted)
    assert result.proposal.proposer == "U0CHO"


def test_an_untaken_request_is_rerouted_and_expires(ctx: services.Context) -> None:
    answer = propose_from_product(ctx, order("18"), source_key="api:1:a")
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(minutes=11)
    assert services.reroute_due(ctx) == 1
    ctx.clock.advance(hours=4)
    assert services.expire_due(ctx) == 1
    now = standing(ctx, answer.id)
    assert now is not None
    assert (now.status, now.proposer) == (Status.EXPIRED, None)
    kinds = owed(ctx, answer.id)
    assert OutboxKind.REROUTE_PING in kinds
    assert OutboxKind.PROPOSER_NOTE not in kinds  # no person proposed it
    assert isinstance(
        services.take_up(ctx, proposal_id=answer.id, user="U0BEN", via=Via.BUTTON), services.AlreadyDecided
    )


def test_refusals_name_the_field_and_store_nothing(ctx: services.Context) -> None:
    with pytest.raises(ProductRefused) as above:
        propose_from_product(ctx, order("301"), source_key="api:1:a")
    assert above.value.field == "amount"
    with pytest.raises(ProductRefused) as unknown:
        propose_from_product(ctx, order("10", remedy_id="nope"), source_key="api:1:b")
    assert unknown.value.field == "remedy"
    with pytest.raises(ProductRefused) as no_agent:
        propose_from_product(ctx, order("10", by=RequestedBy.AGENT), source_key="api:1:c")
    assert no_agent.value.field == "agent"
    with pytest.raises(ProductRefused) as not_an_agent:
        propose_from_product(ctx, order("10", by=RequestedBy.AGENT, agent="U0NOBODY"), source_key="api:1:d")
    assert not_an_agent.value.field == "agent"
    with pytest.raises(ProductRefused) as in_days:
        propose_from_product(ctx, order("1.5", remedy_id="extension"), source_key="api:1:e")
    assert in_days.value.field == "amount"
    for key in "abcde":
        with db.reading(ctx.sessions) as session:
            assert queries.proposal_by_source_key(session, key=f"api:1:{key}") is None


def test_for_an_agent_it_follows_their_own_remedy_path(ctx: services.Context) -> None:
    alone = propose_from_product(ctx, order("10", by=RequestedBy.AGENT, agent="U0ANA"), source_key="api:1:a")
    assert (alone.status, alone.tier, alone.proposer, alone.requested_by) == (
        Status.GRANTED,
        Tier.ALONE,
        "U0ANA",
        RequestedBy.AGENT,
    )
    peer = propose_from_product(ctx, order("60", by=RequestedBy.AGENT, agent="U0ANA", case="#9"), source_key="api:1:b")
    assert (peer.status, peer.tier, peer.proposer) == (Status.PENDING, Tier.PEER, "U0ANA")
    with pytest.raises(ProductRefused) as out:
        propose_from_product(ctx, order("400", by=RequestedBy.AGENT, agent="U0ANA"), source_key="api:1:c")
    assert out.value.field == "amount"


def test_usage_counts_the_customer_tier_as_its_own(ctx: services.Context) -> None:
    propose_from_product(ctx, order("15"), source_key="api:1:a")
    propose_from_product(ctx, order("12", case="#2"), source_key="api:1:b")
    taken = propose_from_product(ctx, order("18", case="#3"), source_key="api:1:c")
    services.take_up(ctx, proposal_id=taken.id, user="U0BEN", via=Via.BUTTON)
    report = services.usage_between(ctx, start=T0 - timedelta(days=7), end=T0 + timedelta(minutes=1))
    assert report.self_served == 2
    assert report.self_served_value == {"USD": Decimal("27.00")}
    assert report.decisions == 1  # Ben's, taken up and granted on his own
    assert [a.alone for a in report.agents if a.user == "U0BEN"] == [1]
    assert report.people_deciding == 1


def test_a_twin_that_waited_for_the_cases_lock_finds_the_first_not_a_limit_it_would_break(
    ctx: services.Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twins sent at once both find nothing recorded before the case's lock; the second, once it
    holds the lock, must answer with the first's proposal, not count it and refuse itself."""
    first = propose_from_product(ctx, order("200"), source_key="api:1:twin")  # a request for a lead
    monkeypatch.setattr("bot.services.product._recorded", lambda _ctx, _key: None)  # the race's first look
    again = propose_from_product(ctx, order("200"), source_key="api:1:twin")
    assert again == first
    with db.reading(ctx.sessions) as session:
        assert len(list(session.scalars(select(Proposal)))) == 1
