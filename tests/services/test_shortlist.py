"""Whom a batch of requests asks is read from a shortlist of each pool (`before_asking`'s first
n + 1 who are around), and is whom a read of everyone would pick: with a roster larger than the
shortlist, loads left uneven by named peers, and people away; on both databases."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from bot import services
from bot.core.authority import Roster
from bot.core.lifecycle import Status
from bot.core.parsing import Draft, InputError
from bot.core.policy import Tier
from bot.services import proposing, records
from bot.services.results import OnItsCase
from bot.services.routing import pick_someone_around
from storage.db import make_sessions
from tests.services.test_request_batches import POLICY, Ticking
from tests.support import wipe

AGENTS = tuple(f"U0A{i:02d}" for i in range(12))
LEADS = ("U0L01", "U0L02", "U0L03")
BIG = Roster(agents=AGENTS, leads=LEADS, bot_user="U0BOT")


def context(engine: Engine) -> services.Context:
    return services.Context(base_policy=POLICY, roster=lambda: BIG, sessions=make_sessions(engine), clock=Ticking())


def item(ctx: services.Context, proposer: str, amount: int, case: str, peer: str | None = None) -> OnItsCase:
    remedy = ctx.policy.remedy("refund")
    assert remedy is not None
    draft = Draft(remedy_id="refund", amount=Decimal(amount), case_ref=case, summary="parcel broken", peer=peer)
    new = records.new_proposal(
        ctx,
        remedy,
        draft,
        status=Status.PENDING,
        tier=remedy.tier_for(Decimal(amount)),
        proposer=proposer,
        origin_channel=None,
        source_key=None,
        now=ctx.clock(),
    )
    return OnItsCase(remedy=remedy, new=new, draft=draft, roster=BIG)


def uneven(ctx: services.Context, rng: random.Random) -> None:
    """Two people away, and requests that named peers, so the loads differ person to person."""
    for user in rng.sample([*AGENTS, *LEADS], 2):
        assert isinstance(services.away(ctx, user=user, duration=timedelta(hours=2)), services.MarkedAway)
    for n in range(14):
        proposer = rng.choice(AGENTS)
        named = rng.choice([u for u in (*AGENTS, *LEADS) if u != proposer])
        one = item(ctx, proposer, 80, f"#before{n}", peer=named)
        try:
            (written,) = proposing.write_on_cases(ctx, [one])
        except InputError:  # named someone away: asked no one
            continue
        assert isinstance(written.result, services.Asked)


def the_batch(ctx: services.Context, rng: random.Random) -> list[OnItsCase]:
    return [item(ctx, rng.choice(AGENTS), rng.choice([80, 80, 200]), f"#{n}") for n in range(5)]


def asked(result: services.ProposeResult) -> tuple[str, str | None]:
    assert isinstance(result, services.Asked), result
    return (result.proposal.tier, result.proposal.asked)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_a_batch_asks_whom_reading_everyone_would(engine: Engine, seed: int) -> None:
    wipe(engine)
    together = context(engine)
    uneven(together, random.Random(seed))
    batch = the_batch(together, random.Random(seed * 7))
    in_one_batch = [asked(each.result) for each in proposing.write_on_cases(together, batch)]
    wipe(engine)
    alone = context(engine)
    uneven(alone, random.Random(seed))
    one_by_one = []
    for each in the_batch(alone, random.Random(seed * 7)):
        with alone.sessions() as session:  # the pick from every person's row, before it is written
            expected = pick_someone_around(
                session, tier=Tier(each.new.tier), roster=BIG, proposer=each.new.proposer, now=alone.clock()
            )
        (written,) = proposing.write_on_cases(alone, [replace(each)])
        one_by_one.append(asked(written.result))
        assert one_by_one[-1] == (each.new.tier, expected)
    wipe(engine)
    assert in_one_batch == one_by_one
    assert len({who for _, who in in_one_batch}) > 1
