"""Integrations, their rate limit, and answering once per Idempotency-Key, on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from bot import services
from bot.core.authority import Roster
from bot.core.integrations import IntegrationError, fingerprint
from bot.core.lifecycle import Status
from bot.core.vocabulary import RequestedBy, Scope
from bot.services import integrations, product
from bot.services.integrations import Answered, Caller, KeyConflict
from bot.services.product import ProductAnswer, ProductOrder, ProductRefused
from storage import queries
from storage.db import make_sessions
from storage.models import IdempotentAnswer, Proposal
from tests.policies import AGENTS, LEADS, team_policy
from tests.support import FakeClock, wipe


@pytest.fixture
def ctx(engine: Engine, clock: FakeClock) -> Iterator[services.Context]:
    wipe(engine)
    roster = Roster(agents=AGENTS, leads=LEADS, bot_user="U0BOT")
    yield services.Context(
        base_policy=team_policy(), roster=lambda: roster, sessions=make_sessions(engine), clock=clock
    )
    wipe(engine)


def add(ctx: services.Context, name: str = "helpdesk", *scopes: Scope) -> tuple[Caller, str]:
    token = integrations.add_integration(
        ctx.sessions, name=name, scopes=frozenset(scopes or {Scope.PROPOSE}), now=ctx.clock()
    )
    caller = integrations.caller_of(ctx, token)
    assert caller is not None
    return caller, token


def order(amount: str = "15", case: str = "#4711", **changes: Any) -> ProductOrder:
    fields: dict[str, Any] = {
        "integration": "helpdesk",
        "remedy_id": "late_fee",
        "amount": Decimal(amount),
        "case_ref": case,
        "what_happened": "Charged twice.",
        "fair": None,
        "requested_by": RequestedBy.AGENT,
        "agent": "U0ANA",
        "customer_id": None,
        "customer_name": None,
        **changes,
    }
    return ProductOrder(**fields)


def render(answer: ProductAnswer) -> tuple[int, dict[str, Any]]:
    return (201 if answer.status is Status.GRANTED else 202), {"id": answer.id, "status": answer.status.value}


def propose(ctx: services.Context, caller: Caller, key: str, what: ProductOrder) -> Answered | KeyConflict:
    return integrations.propose_once(
        ctx,
        caller,
        key=key,
        fingerprint=fingerprint({"amount": str(what.amount), "case": what.case_ref}),
        order=what,
        render=render,
    )


def proposals(ctx: services.Context) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Proposal)) or 0)


def test_a_token_names_its_integration_until_it_is_revoked(ctx: services.Context) -> None:
    caller, token = add(ctx, "helpdesk", Scope.PROPOSE, Scope.READ)
    assert caller.name == "helpdesk"
    assert caller.scopes == {Scope.PROPOSE, Scope.READ}
    with ctx.sessions() as session:
        stored = queries.integration_named(session, name="helpdesk")
        assert stored is not None
        assert token not in (stored.token_hash, stored.scopes, stored.name)
    assert integrations.caller_of(ctx, token + "x") is None
    assert integrations.caller_of(ctx, "not-a-token") is None
    assert integrations.revoke_integration(ctx.sessions, name="helpdesk", now=ctx.clock())
    assert integrations.caller_of(ctx, token) is None
    assert not integrations.revoke_integration(ctx.sessions, name="helpdesk", now=ctx.clock())
    (listed,) = integrations.list_integrations(ctx.sessions)
    assert listed.name == "helpdesk"
    assert listed.revoked_at == ctx.clock()


def test_a_taken_name_and_an_unknown_one_are_refused_clearly(ctx: services.Context) -> None:
    add(ctx, "helpdesk")
    with pytest.raises(IntegrationError, match="exists already"):
        add(ctx, "helpdesk")
    with pytest.raises(IntegrationError, match="no integration named `nope`"):
        integrations.revoke_integration(ctx.sessions, name="nope", now=ctx.clock())


def test_the_rate_limit_counts_each_integration_per_minute(ctx: services.Context, clock: FakeClock) -> None:
    helpdesk, _ = add(ctx, "helpdesk")
    shop, _ = add(ctx, "shop")
    clock.advance(seconds=20)
    assert integrations.spend_rate(ctx, helpdesk, per_minute=2) is None
    assert integrations.spend_rate(ctx, helpdesk, per_minute=2) is None
    assert integrations.spend_rate(ctx, helpdesk, per_minute=2) == 40  # seconds to the next minute
    assert integrations.spend_rate(ctx, shop, per_minute=2) is None  # its own count
    clock.advance(seconds=40)
    assert integrations.spend_rate(ctx, helpdesk, per_minute=2) is None


def test_simultaneous_requests_never_pass_the_limit(ctx: services.Context) -> None:
    helpdesk, _ = add(ctx)
    allowed: list[bool] = []
    lock = threading.Lock()

    def spend() -> None:
        passed = integrations.spend_rate(ctx, helpdesk, per_minute=5) is None
        with lock:
            allowed.append(passed)

    threads = [threading.Thread(target=spend) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 5


def test_the_same_key_and_body_answer_the_same_and_record_nothing_more(ctx: services.Context) -> None:
    helpdesk, _ = add(ctx)
    first = propose(ctx, helpdesk, "k-1", order())
    assert isinstance(first, Answered)
    assert first.status_code == 201
    assert not first.replayed
    again = propose(ctx, helpdesk, "k-1", order())
    assert again == Answered(first.status_code, first.body, replayed=True)
    assert proposals(ctx) == 1
    assert isinstance(propose(ctx, helpdesk, "k-1", order("16")), KeyConflict)
    assert proposals(ctx) == 1


def test_a_key_is_the_integration_s_own(ctx: services.Context) -> None:
    helpdesk, _ = add(ctx, "helpdesk")
    shop, _ = add(ctx, "shop")
    one = propose(ctx, helpdesk, "k-1", order(case="#1"))
    other = propose(ctx, shop, "k-1", order(case="#2"))
    assert isinstance(one, Answered)
    assert isinstance(other, Answered)
    assert one.body["id"] != other.body["id"]


def test_a_refused_order_keeps_nothing_and_its_key_may_be_used_again(ctx: services.Context) -> None:
    helpdesk, _ = add(ctx)
    with pytest.raises(ProductRefused) as refused:
        propose(ctx, helpdesk, "k-1", order("5000"))
    assert refused.value.field == "amount"
    assert proposals(ctx) == 0
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(IdempotentAnswer)) == 0
    fixed = propose(ctx, helpdesk, "k-1", order("50"))
    assert isinstance(fixed, Answered)
    assert fixed.status_code == 202  # above the agent's own 20: a peer is asked


def test_a_request_that_died_before_its_answer_was_kept_is_answered_for_its_proposal(ctx: services.Context) -> None:
    helpdesk, _ = add(ctx)
    what = order()
    key_fingerprint = fingerprint({"amount": str(what.amount), "case": what.case_ref})
    # The first request claimed the key and recorded the proposal, then died.
    with ctx.sessions.begin() as session:
        queries.claim_key(session, integration_id=helpdesk.id, key="k-1", fingerprint=key_fingerprint, now=ctx.clock())
    recorded = product.propose_from_product(ctx, what, source_key=f"api:{helpdesk.id}:k-1")
    retried = propose(ctx, helpdesk, "k-1", what)
    assert isinstance(retried, Answered)
    assert retried.body["id"] == recorded.id
    assert proposals(ctx) == 1


def test_simultaneous_twins_record_one_proposal_and_give_one_answer(ctx: services.Context) -> None:
    helpdesk, _ = add(ctx)
    answers: list[Answered | KeyConflict] = []
    lock = threading.Lock()

    def send(amount: str) -> None:
        answer = propose(ctx, helpdesk, "k-1", order(amount))
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=send, args=("50",)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert proposals(ctx) == 1
    bodies = {(a.status_code, a.body["id"]) for a in answers if isinstance(a, Answered)}
    assert len(answers) == 6
    assert len(bodies) == 1
