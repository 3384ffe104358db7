"""Whom a batch of requests asks is read from a shortlist of each pool (`before_asking`'s first
n + 1 who are around), and is whom a read of everyone would pick: with rosters and a leads pool
larger than the shortlist, Leeway itself and someone listed twice on the roster, loads left
uneven by named peers, people away, a named peer and a request its case raises to a lead within
the batch, and a second roster's request beside them; on both databases."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot import services
from bot.core.authority import Roster
from bot.core.lifecycle import Status
from bot.core.parsing import Draft, InputError
from bot.core.policy import Tier
from bot.services import proposing, records
from bot.services.results import OnItsCase
from bot.services.routing import pick_someone_around
from storage.db import make_sessions
from storage.queries.asking import BeforeAsking, before_asking
from tests.services.test_request_batches import POLICY, Ticking
from tests.support import wipe

AGENTS = tuple(f"U0A{i:02d}" for i in range(12))
LEADS = tuple(f"U0L{i:02d}" for i in range(14))
# Leeway itself and someone in two user groups, as a roster read from Slack can have them.
BIG = Roster(agents=(*AGENTS[:4], "U0BOT", AGENTS[3], *AGENTS[4:]), leads=LEADS, bot_user="U0BOT")
SMALL = Roster(agents=AGENTS[6:], leads=LEADS[9:], bot_user="U0BOT")


def context(engine: Engine) -> services.Context:
    return services.Context(base_policy=POLICY, roster=lambda: BIG, sessions=make_sessions(engine), clock=Ticking())


def item(
    ctx: services.Context, proposer: str, amount: int, case: str, peer: str | None = None, roster: Roster = BIG
) -> OnItsCase:
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
    return OnItsCase(remedy=remedy, new=new, draft=draft, roster=roster)


def uneven(ctx: services.Context, rng: random.Random) -> set[str]:
    """Two people away, and requests that named peers, so the loads differ person to person;
    who is away."""
    away = set(rng.sample([*AGENTS, *LEADS], 2))
    for user in sorted(away):
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
    return away


def the_batch(ctx: services.Context, rng: random.Random, away: set[str]) -> list[OnItsCase]:
    batch = [item(ctx, rng.choice(AGENTS), rng.choice([80, 80, 200]), f"#{n}") for n in range(5)]
    first, second, named = rng.sample(AGENTS, 3)
    named_peer = rng.choice([u for u in AGENTS if u not in away and u != named])
    batch[1:1] = [item(ctx, first, 80, "#same"), item(ctx, second, 80, "#same")]  # the second: $160, a lead's
    batch.insert(4, item(ctx, named, 80, "#named", peer=named_peer))
    batch.append(item(ctx, rng.choice(SMALL.agents), 80, "#small", roster=SMALL))
    return batch


def asked(result: services.ProposeResult) -> tuple[str, str | None]:
    assert isinstance(result, services.Asked), result
    return (result.proposal.tier, result.proposal.asked)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_a_batch_asks_whom_reading_everyone_would(engine: Engine, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    wipe(engine)
    together = context(engine)
    away = uneven(together, random.Random(seed))
    batch = the_batch(together, random.Random(seed * 7), away)
    reads = shortlists(monkeypatch)
    in_one_batch = [asked(each.result) for each in proposing.write_on_cases(together, batch)]
    # The batch read a shortlist, not everyone around: of the leads too.
    around = {u for u in (*AGENTS, *LEADS) if u not in away}
    (shortlisted,) = reads
    assert len(shortlisted) < len(around)
    assert len(shortlisted & set(LEADS)) < len(set(LEADS) - away)
    wipe(engine)
    alone = context(engine)
    uneven(alone, random.Random(seed))
    one_by_one = []
    for each in the_batch(alone, random.Random(seed * 7), away):
        with alone.sessions() as session:  # the pick from every person's row, before it is written
            expected = {
                tier: pick_someone_around(
                    session, tier=tier, roster=each.roster, proposer=each.new.proposer, now=alone.clock()
                )
                for tier in (Tier.PEER, Tier.LEAD)
            }
        (written,) = proposing.write_on_cases(alone, [replace(each)])
        tier, who = asked(written.result)
        one_by_one.append((tier, who))
        assert who == (each.draft.peer or expected[Tier(tier)])
    wipe(engine)
    assert in_one_batch == one_by_one
    assert ("lead", one_by_one[2][1]) == one_by_one[2]  # the second on its case, raised to a lead
    assert one_by_one[4][1] == batch[4].draft.peer
    assert len({who for _, who in in_one_batch}) > 1
    assert "U0BOT" not in {who for _, who in in_one_batch}


def shortlists(monkeypatch: pytest.MonkeyPatch) -> list[frozenset[str]]:
    """Records whom each batch's read shortlisted."""
    read: list[frozenset[str]] = []

    def recording(session: Session, **kwargs: Any) -> BeforeAsking:
        found = before_asking(session, **kwargs)
        read.append(found.shortlisted)
        return found

    monkeypatch.setattr(proposing, "before_asking", recording)
    return read
