"""Requests that arrive together are written together (`proposing.write_on_cases`), each decided
exactly as if it came alone after the ones before it: what its case has, and whom it asks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from bot import services
from bot.core.authority import Roster
from bot.core.lifecycle import Status
from bot.core.parsing import Draft, InputError
from bot.core.policy import Policy, Tier
from bot.core.vocabulary import OutboxKind
from bot.group_commit import GroupCommit
from bot.policy_file import parse_policy
from bot.services import proposing, records
from bot.services.results import Counted, OnItsCase
from storage.db import make_sessions
from storage.models import OutboxMessage, Proposal
from tests.policies import TEAM_POLICY, team_policy
from tests.support import FakeClock, wipe
from tests.test_group_commit import wait_until

POLICY = team_policy()  # refund: alone up to 50, a peer up to 150, a lead up to 500
ROSTER = Roster(agents=("U0ANA", "U0BEN", "U0CHO", "U0DAN"), leads=("U0LEE", "U0LIZ"), bot_user="U0BOT")


class Ticking(FakeClock):
    """A clock a second later at every read, so each request of a batch has a time of its own."""

    def __call__(self) -> datetime:
        return self.advance(seconds=1)


class Recording(GroupCommit[OnItsCase, Counted]):
    """Group commit that records the size of each write; `hold` keeps the first one open."""

    def __init__(self) -> None:
        super().__init__(alone_on=(InputError,))
        self.sizes: list[int] = []
        self.hold, self.started = threading.Event(), threading.Event()
        self.hold.set()

    def submit(self, item: OnItsCase, write: Callable[[Sequence[OnItsCase]], Sequence[Counted]]) -> Counted:
        def recorded(items: Sequence[OnItsCase]) -> Sequence[Counted]:
            self.sizes.append(len(items))
            self.started.set()
            assert self.hold.wait(10)
            return write(items)

        return super().submit(item, recorded)


@pytest.fixture
def ctx(engine: Engine) -> Iterator[services.Context]:
    wipe(engine)
    yield context(engine)
    wipe(engine)


def context(
    engine: Engine, on_cases: GroupCommit[OnItsCase, Counted] | None = None, policy: Policy = POLICY
) -> services.Context:
    ctx = services.Context(base_policy=policy, roster=lambda: ROSTER, sessions=make_sessions(engine), clock=Ticking())
    return ctx if on_cases is None else replace(ctx, on_cases=on_cases)


def on_its_case(
    ctx: services.Context,
    proposer: str,
    amount: int,
    case: str,
    *,
    key: str | None = None,
    peer: str | None = None,
    remedy_id: str = "refund",
) -> OnItsCase:
    remedy = ctx.policy.remedy(remedy_id)
    assert remedy is not None
    draft = Draft(remedy_id=remedy_id, amount=Decimal(amount), case_ref=case, summary="parcel broken", peer=peer)
    new = records.new_proposal(
        ctx,
        remedy,
        draft,
        status=Status.PENDING,
        tier=remedy.tier_for(Decimal(amount)),
        proposer=proposer,
        origin_channel=None,
        source_key=key,
        now=ctx.clock(),
    )
    return OnItsCase(remedy=remedy, new=new, draft=draft, roster=ROSTER)


def answers(counted: Sequence[Counted]) -> list[services.ProposeResult]:
    return [each.result for each in counted]


def asked(result: services.ProposeResult) -> tuple[str, str | None]:
    assert isinstance(result, services.Asked), result
    return (result.proposal.tier, result.proposal.asked)


def count(ctx: services.Context, model: type[Proposal] | type[OutboxMessage]) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_twins_on_one_case_in_one_batch_count_each_other(ctx: services.Context) -> None:
    first, second, third, other = answers(
        proposing.write_on_cases(
            ctx,
            [
                on_its_case(ctx, "U0ANA", 100, "#1"),
                on_its_case(ctx, "U0BEN", 100, "#1"),  # with the first, 200: past a peer's 150
                on_its_case(ctx, "U0CHO", 301, "#1"),  # with both, 501: past a lead's 500
                on_its_case(ctx, "U0DAN", 100, "#2"),  # another case: on its own
            ],
        )
    )
    assert asked(first)[0] == Tier.PEER
    assert asked(second)[0] == Tier.LEAD
    assert isinstance(second, services.Asked)
    assert second.already.waiting == Decimal(100)
    assert isinstance(third, services.OutOfPolicy)
    assert third.already.waiting == Decimal(200)
    assert asked(other)[0] == Tier.PEER
    assert count(ctx, Proposal) == 3


def test_a_grant_in_a_batch_counts_for_the_request_after_it(ctx: services.Context) -> None:
    """An agent's proposal comes here when its case had too much for them alone; within their
    authority after all, it is granted, and the next on its case counts it."""
    grant, after = answers(
        proposing.write_on_cases(ctx, [on_its_case(ctx, "U0ANA", 40, "#1"), on_its_case(ctx, "U0BEN", 120, "#1")])
    )
    assert isinstance(grant, services.Granted)
    assert grant.proposal.status == Status.GRANTED
    assert isinstance(after, services.Asked)
    assert after.proposal.tier == Tier.LEAD  # 40 granted + 120: past a peer's 150
    assert after.already.granted == Decimal(40)


def a_morning(ctx: services.Context) -> list[OnItsCase]:
    """Requests of every kind: peer and lead, named, on one case, of another remedy."""
    return [
        on_its_case(ctx, "U0ANA", 80, "#1"),
        on_its_case(ctx, "U0BEN", 80, "#2"),
        on_its_case(ctx, "U0CHO", 80, "#3", peer="U0DAN"),
        on_its_case(ctx, "U0ANA", 200, "#4"),
        on_its_case(ctx, "U0DAN", 80, "#5"),
        on_its_case(ctx, "U0ANA", 80, "#6"),
        on_its_case(ctx, "U0BEN", 250, "#7"),
        on_its_case(ctx, "U0CHO", 80, "#1"),  # with the first, 160: a lead's
        on_its_case(ctx, "U0ANA", 30, "#8", remedy_id="late_fee"),
        on_its_case(ctx, "U0DAN", 90, "#9"),
        on_its_case(ctx, "U0CHO", 60, "#10"),
        on_its_case(ctx, "U0BEN", 70, "#11"),
    ]


def before_the_morning(ctx: services.Context) -> None:
    """Someone away, and requests already waiting, so the picks have loads to weigh."""
    assert isinstance(services.away(ctx, user="U0CHO", duration=timedelta(hours=2)), services.MarkedAway)
    for proposer, case in (("U0ANA", "#0a"), ("U0BEN", "#0b"), ("U0DAN", "#0c")):
        (one,) = proposing.write_on_cases(ctx, [on_its_case(ctx, proposer, 90, case)])
        assert isinstance(one.result, services.Asked)


def test_whom_a_batch_asks_is_whom_they_would_ask_one_by_one(engine: Engine) -> None:
    wipe(engine)
    together = context(engine)
    before_the_morning(together)
    in_one_batch = [asked(result) for result in answers(proposing.write_on_cases(together, a_morning(together)))]
    wipe(engine)
    alone = context(engine)
    before_the_morning(alone)
    one_by_one = [asked(each.result) for item in a_morning(alone) for each in proposing.write_on_cases(alone, [item])]
    wipe(engine)
    assert in_one_batch == one_by_one
    # Before: Ben, Ana and Lee have one open ask each (asked in that order); Cho is away. Each
    # pick is the fewest open asks, then the one asked longest ago (never: first), then the
    # roster's order; Dan is named once; lead-tier requests ask a lead.
    peer, lead = Tier.PEER, Tier.LEAD
    assert in_one_batch == [
        (peer, "U0DAN"),
        (peer, "U0LIZ"),
        (peer, "U0DAN"),  # named
        (lead, "U0LEE"),
        (peer, "U0BEN"),
        (peer, "U0LIZ"),
        (lead, "U0LEE"),
        (lead, "U0LIZ"),  # the second on case #1: 160, a lead's
        (peer, "U0DAN"),
        (peer, "U0ANA"),
        (peer, "U0BEN"),
        (peer, "U0ANA"),
    ]


def test_a_redelivery_in_a_batch_is_answered_with_the_first_and_written_once(ctx: services.Context) -> None:
    (grant,) = proposing.write_on_cases(ctx, [on_its_case(ctx, "U0DAN", 40, "#9")])  # the precedent
    assert isinstance(grant.result, services.Granted)
    (first,) = proposing.write_on_cases(ctx, [on_its_case(ctx, "U0ANA", 80, "#1", key="view:1")])
    assert first.fresh
    again, new, twice, other = proposing.write_on_cases(
        ctx,
        [
            on_its_case(ctx, "U0ANA", 80, "#1", key="view:1"),  # recorded before this batch
            on_its_case(ctx, "U0BEN", 80, "#2", key="view:2"),
            on_its_case(ctx, "U0BEN", 80, "#2", key="view:2"),  # twice in this batch
            on_its_case(ctx, "U0DAN", 80, "#2", key="view:3"),
        ],
    )
    assert isinstance(first.result, services.Asked)
    assert isinstance(again.result, services.Asked)
    assert again.result.proposal.id == first.result.proposal.id
    assert not again.fresh
    assert isinstance(new.result, services.Asked)
    assert isinstance(twice.result, services.Asked)
    assert new.fresh
    assert not twice.fresh
    assert twice.result.proposal.id == new.result.proposal.id
    # The repeat counted for nothing: the third on case #2 has only the first's 80 with it.
    assert isinstance(other.result, services.Asked)
    assert other.result.already.waiting == Decimal(80)
    assert other.result.proposal.tier == Tier.LEAD
    assert count(ctx, Proposal) == 4
    with ctx.sessions() as session:
        posts = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.REQUEST)).all()
        ids = {first.result.proposal.id, new.result.proposal.id, other.result.proposal.id}
        owed = sorted((post.proposal_id, post.dedupe_key) for post in posts)
        assert owed == [(i, f"request:{i}") for i in sorted(ids)]
        # Each carries how the team granted refunds lately: the one grant, of 40.
        carried = session.execute(
            select(Proposal.precedent_count, Proposal.precedent_median).where(Proposal.asked.is_not(None))
        ).all()
        assert carried == [(1, Decimal(40))] * 3


def test_a_named_person_who_cant_be_asked_fails_the_batch_and_nothing_of_it_is_written(
    ctx: services.Context,
) -> None:
    with pytest.raises(InputError):
        proposing.write_on_cases(
            ctx, [on_its_case(ctx, "U0ANA", 80, "#1"), on_its_case(ctx, "U0BEN", 80, "#2", peer="U0BEN")]
        )
    assert count(ctx, Proposal) == 0


def test_proposals_arriving_during_a_write_share_the_next_and_one_bad_fails_only_itself(engine: Engine) -> None:
    wipe(engine)
    together = Recording()
    ctx = context(engine, together)
    assert isinstance(services.away(ctx, user="U0CHO"), services.MarkedAway)
    outcomes: dict[str, object] = {}

    def propose(proposer: str, amount: int, case: str, peer: str | None = None) -> None:
        draft = Draft(remedy_id="refund", amount=Decimal(amount), case_ref=case, summary="parcel broken", peer=peer)
        try:
            outcomes[f"{proposer}{case}"] = services.propose(
                ctx, proposer=proposer, draft=draft, origin_channel=None, source_key=f"view:{proposer}{case}"
            )
        except InputError as error:
            outcomes[f"{proposer}{case}"] = error

    together.hold.clear()
    first = threading.Thread(target=propose, args=("U0ANA", 80, "#0"))
    first.start()
    assert together.started.wait(10)
    arriving = [
        ("U0ANA", 100, "#1"),
        ("U0BEN", 100, "#1"),  # the twin: the two come to 200, a lead's
        ("U0DAN", 80, "#2"),
        ("U0DAN", 80, "#3", "U0CHO"),  # away: this one fails, on its own
    ]
    threads = [threading.Thread(target=propose, args=args) for args in arriving]
    for thread in threads:
        thread.start()
    wait_until(lambda: together.waiting == len(arriving))
    together.hold.set()
    for thread in [first, *threads]:
        thread.join(10)
    wipe(engine)
    assert together.sizes[:2] == [1, 4]  # the four arriving meanwhile, in one write first
    assert isinstance(outcomes["U0DAN#3"], InputError)
    tiers = sorted(outcome.proposal.tier for outcome in outcomes.values() if isinstance(outcome, services.Asked))
    assert tiers == sorted([Tier.PEER, Tier.PEER, Tier.PEER, Tier.LEAD])
    assert all(
        outcome.proposal.asked != "U0CHO" for outcome in outcomes.values() if isinstance(outcome, services.Asked)
    )


def test_alone_budgets_spent_in_one_batch_each_see_the_spending_before_them(engine: Engine) -> None:
    """A remedy with an alone budget spends it under the case's lock, here in the batch: past
    the budget, a peer agrees."""
    late_fee = "    alone_up_to: 20\n    peer_up_to: 100\n"
    budgeted = parse_policy(TEAM_POLICY.replace(late_fee, late_fee + "    alone_budget: {amount: 40, per: week}\n"))
    wipe(engine)
    ctx = context(engine, policy=budgeted)
    items = [on_its_case(ctx, "U0ANA", 15, f"#{n}", remedy_id="late_fee") for n in range(1, 4)]
    first, second, third = answers(proposing.write_on_cases(ctx, items))
    wipe(engine)
    assert isinstance(first, services.Granted)
    assert isinstance(second, services.Granted)  # 30 of 40
    assert isinstance(third, services.Asked)  # 45: past the budget
    assert third.proposal.tier == Tier.PEER
    assert third.over_budget is not None
    assert third.over_budget.used == Decimal(30)
