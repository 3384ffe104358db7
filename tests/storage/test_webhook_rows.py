"""A batch of alone grants writes the webhook events each grant owes in the same write, on both
databases (on PostgreSQL the one round trip of `storage.alone_grants`), each naming its proposal."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.core.authority import Roster
from bot.core.vocabulary import OutboxKind, Via, WebhookEvent
from bot.outbox.webhooks import event_of
from bot.policy_file import parse_policy
from bot.services import webhooks
from bot.services.context import Context
from storage.db import make_sessions
from storage.models import OutboxMessage
from tests.policies import TEAM_POLICY
from tests.storage.test_alone_grants import grant, write
from tests.storage.test_storage import T0
from tests.support import FakeClock, wipe

POLICY = parse_policy(
    TEAM_POLICY + "webhooks:\n  - url: https://refunds.example/leeway\n    events: [granted]\n    secret_env: X\n"
)


def no_roster() -> Roster:
    raise AssertionError("owing events reads no roster")


@pytest.fixture
def sessions(engine: Engine) -> Iterator[sessionmaker[Session]]:
    wipe(engine)
    yield make_sessions(engine)
    wipe(engine)


def test_each_grant_in_a_batch_owes_its_event_and_names_its_proposal(sessions: sessionmaker[Session]) -> None:
    ctx = Context(base_policy=POLICY, roster=no_roster, sessions=sessions, clock=FakeClock())
    grants = []
    for case_ref in ("#1", "#2", "#1"):
        new = grant(case_ref, "30")
        owed = webhooks.granted_rows(ctx, new, tier=new.tier, approver="U0ANA", via=Via.ALONE, at=T0)
        grants.append(replace(new, rows=replace(new.rows, outbox=(*new.rows.outbox, *owed))))
    ids = write(sessions, grants)
    assert None not in ids[:2]
    assert ids[2] is None  # the third no longer fits #1
    with sessions() as session:
        rows = list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.WEBHOOK).order_by(OutboxMessage.id)
            )
        )
    assert [row.proposal_id for row in rows] == ids[:2]
    assert {row.channel for row in rows} == {POLICY.webhooks[0].key}
    events = [event_of(row) for row in rows]
    assert [e["type"] for e in events] == [WebhookEvent.GRANTED, WebhookEvent.GRANTED]
    assert [e["data"]["proposal"]["id"] for e in events] == ids[:2]
    assert [e["data"]["proposal"]["case"] for e in events] == ["#1", "#2"]
    assert len({e["id"] for e in events}) == 2
