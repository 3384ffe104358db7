"""A batch of alone grants is written only where each still fits its case's alone limit, and on
PostgreSQL reads its cases only once it holds their locks; on both databases."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.core.lifecycle import Event, Status
from bot.core.policy import Tier
from bot.core.vocabulary import OutboxKind
from storage import queries
from storage.alone_grants import add_alone_grants
from storage.batch import THIS_PROPOSAL, EventRow, NewProposal, Rows, outbox_row
from storage.db import batch_connection, make_engine, make_sessions
from storage.models import OutboxMessage, Proposal, ProposalEvent
from tests.storage.test_storage import T0, make_proposal
from tests.support import wipe

ALONE = Decimal(50)
SINCE = T0 - timedelta(days=30)


@pytest.fixture
def sessions(engine: Engine) -> Iterator[sessionmaker[Session]]:
    wipe(engine)
    yield make_sessions(engine)
    wipe(engine)


def grant(case_ref: str, amount: str, key: str | None = None, remedy_id: str = "refund") -> NewProposal:
    """A grant within the agent's own authority, with a line of history and a post owed."""
    return NewProposal(
        status=Status.GRANTED,
        remedy_id=remedy_id,
        remedy_label="Refund",
        unit="USD",
        amount=Decimal(amount),
        case_ref=case_ref,
        summary="parcel arrived broken",
        tier=Tier.ALONE,
        proposer="U0ANA",
        created_at=T0,
        source_key=key,
        rows=Rows(
            events=(EventRow(at=T0, kind=Event.GRANTED, actor="U0ANA", detail={"via": "alone"}),),
            outbox=(outbox_row(kind=OutboxKind.DECISION, channel="C0DEC", at=T0, dedupe_key=f"d:{THIS_PROPOSAL}"),),
        ),
    )


def write(sessions: sessionmaker[Session], grants: list[NewProposal]) -> list[int | None]:
    with batch_connection(sessions) as connection:
        return add_alone_grants(connection, grants, alone_limits=[ALONE] * len(grants), since=SINCE)


def test_each_grant_counts_the_case_and_the_batch_before_it(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        make_proposal(session, status=Status.GRANTED, amount=Decimal(20), case_ref="#1")
        make_proposal(session, status=Status.PENDING, amount=Decimal(10), case_ref="#1")
        make_proposal(session, status=Status.DECLINED, amount=Decimal(50), case_ref="#2")
        make_proposal(
            session, status=Status.GRANTED, amount=Decimal(50), case_ref="#3", created_at=SINCE - timedelta(seconds=1)
        )
    ids = write(
        sessions,
        [
            grant("#1", "15"),  # 30 + 15
            grant("#1", "10"),  # 30 + 15 + 10: over
            grant("#1", "5"),  # after one that didn't fit: decided afresh by the caller
            grant("#2", "50"),  # a decline counts for nothing
            grant("#3", "50"),  # nor does what is older than the window
            grant("#4", "30", remedy_id="late_fee"),
            grant("#4", "30"),  # another remedy on the same case
        ],
    )
    assert [i is not None for i in ids] == [True, False, False, True, True, True, True]
    with sessions() as session:
        written = {p.id: p for p in session.scalars(select(Proposal).where(Proposal.id.in_([i for i in ids if i])))}
        assert [(written[i].case_ref, written[i].amount) for i in ids if i] == [
            ("#1", Decimal(15)),
            ("#2", Decimal(50)),
            ("#3", Decimal(50)),
            ("#4", Decimal(30)),
            ("#4", Decimal(30)),
        ]
        events = session.scalars(select(ProposalEvent.proposal_id).order_by(ProposalEvent.proposal_id)).all()
        assert events == sorted(i for i in ids if i)
        keys = set(session.scalars(select(OutboxMessage.dedupe_key)))
        assert keys == {f"d:{i}" for i in ids if i}


def test_replays_are_left_out_and_count_for_nothing(sessions: sessionmaker[Session]) -> None:
    (first,) = write(sessions, [grant("#1", "40", key="trigger:1")])
    assert first is not None
    ids = write(
        sessions,
        [grant("#1", "40", key="trigger:1"), grant("#2", "40", key="trigger:2"), grant("#2", "40", key="trigger:2")],
    )
    assert ids[0] is None  # recorded before
    assert ids[1] is not None
    assert ids[2] is None  # twice in one batch: the first is written, and the second doesn't count
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Proposal)) == 2


def test_case_references_match_whatever_their_letters_case(sessions: sessionmaker[Session]) -> None:
    assert write(sessions, [grant("ACC-1", "30"), grant("acc-1", "30")])[1] is None


def test_a_batch_reads_its_case_only_once_it_holds_the_lock(engine: Engine, sessions: sessionmaker[Session]) -> None:
    """A grant committed on the case while the batch waited for the lock is counted."""
    if engine.dialect.name != "postgresql":
        # SQLite: every writer waits for the one before it (BEGIN IMMEDIATE) and reads after it.
        with sessions.begin() as before:
            make_proposal(before, status=Status.GRANTED, amount=Decimal(45), case_ref="#1")
        assert write(sessions, [grant("#1", "10")]) == [None]
        return
    results: list[list[int | None]] = []
    with sessions.begin() as holder:
        queries.lock_cases(holder, cases=[("refund", "#1")])
        make_proposal(holder, status=Status.GRANTED, amount=Decimal(45), case_ref="#1")
        writer = threading.Thread(target=lambda: results.append(write(sessions, [grant("#1", "10")])))
        writer.start()
        waiting_for_the_lock(engine)
    writer.join(10)
    assert results == [[None]]  # 45 + 10 is over the alone limit


def waiting_for_the_lock(engine: Engine, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            ).scalar()
            if waiting:
                return
            connection.rollback()
            time.sleep(0.01)  # polling another connection, not waiting out a clock
    raise AssertionError("the batch never waited for the case's lock")


@pytest.mark.usefixtures("engine")  # migrated
def test_a_batch_prepares_its_write_again_when_the_connection_lost_it(database_url: str) -> None:
    """psycopg deallocates every prepared statement when the schema changes under it."""
    one_connection = make_engine(database_url, pool_size=1, max_overflow=0)
    sessions = make_sessions(one_connection)
    try:
        wipe(one_connection)
        assert write(sessions, [grant("#1", "10")])[0] is not None
        if one_connection.dialect.name == "postgresql":
            with one_connection.connect() as connection:
                connection.execute(text("DEALLOCATE ALL"))
                connection.commit()
        assert write(sessions, [grant("#2", "10")])[0] is not None
    finally:
        wipe(one_connection)
        one_connection.dispose()
