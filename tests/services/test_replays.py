"""A redelivered submission inside a batch of grants costs the batch nothing."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from bot import services
from bot.core.authority import Roster
from bot.core.lifecycle import Status
from bot.core.parsing import Draft
from bot.core.policy import Tier
from bot.services import proposing, records
from storage.batch import NewProposal
from storage.db import make_sessions
from storage.models import Proposal
from tests.policies import team_policy
from tests.support import FakeClock, wipe

POLICY = team_policy()


@pytest.fixture
def ctx(engine: Engine) -> Iterator[services.Context]:
    wipe(engine)
    roster = Roster(agents=("U0ANA", "U0BEN"), leads=("U0LEE",), bot_user="U0BOT")
    yield services.Context(base_policy=POLICY, roster=lambda: roster, sessions=make_sessions(engine), clock=FakeClock())
    wipe(engine)


def grant(ctx: services.Context, case: str, key: str) -> NewProposal:
    remedy = POLICY.remedy("refund")
    assert remedy is not None
    draft = Draft(remedy_id="refund", amount=Decimal(10), case_ref=case, summary="parcel broken")
    new = records.new_proposal(
        ctx,
        remedy,
        draft,
        status=Status.PENDING,
        tier=Tier.ALONE,
        proposer="U0ANA",
        origin_channel=None,
        source_key=key,
        now=ctx.clock(),
    )
    return proposing._as_granted_alone(ctx, new, draft)


def test_replays_in_a_batch_are_left_out_and_the_rest_written_together(ctx: services.Context) -> None:
    (first,) = proposing.write_alone_grants(ctx, [grant(ctx, "#1", "trigger:1")])
    assert first is not None
    batch = [grant(ctx, "#1", "trigger:1"), grant(ctx, "#2", "trigger:2"), grant(ctx, "#2", "trigger:2")]
    ids = proposing.write_alone_grants(ctx, [*batch, grant(ctx, "#3", "trigger:3")])
    assert ids[0] is None  # recorded before: it finds that one on its own
    assert ids[1] is not None
    assert ids[2] is None  # twice in one batch: the first is written
    assert ids[3] is not None
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Proposal)) == 3


def test_a_replay_answers_as_the_first_one_did(ctx: services.Context) -> None:
    draft = Draft(remedy_id="refund", amount=Decimal(10), case_ref="#7", summary="parcel broken")
    first = services.propose(ctx, proposer="U0ANA", draft=draft, origin_channel=None, source_key="trigger:7")
    again = services.propose(ctx, proposer="U0ANA", draft=draft, origin_channel=None, source_key="trigger:7")
    assert isinstance(first, services.Granted)
    assert isinstance(again, services.Granted)
    assert again.proposal.id == first.proposal.id
