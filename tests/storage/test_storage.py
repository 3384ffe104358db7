from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.core.lifecycle import Event, Status
from bot.core.policy import Tier
from bot.core.vocabulary import OutboxKind, OutboxStatus, Via
from storage import batch, db, migrate, queries
from storage.batch import ApprovalRow, DecisionRow, EventRow, NewProposal, Rows
from storage.db import batch_connection, make_engine, make_sessions
from storage.models import Approval, Base, Decision, OutboxMessage, Proposal, ProposalEvent
from tests.support import FakeClock, wipe

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def make_proposal(session: Session, **overrides: Any) -> Proposal:
    fields: dict[str, Any] = {
        "status": "pending",
        "remedy_id": "refund",
        "remedy_label": "Refund",
        "unit": "USD",
        "amount": Decimal("40.00"),
        "case_ref": "#4711",
        "summary": "parcel arrived broken",
        "tier": "peer",
        "proposer": "U0ANA",
        "asked": "U0BEN",
        "created_at": T0,
    }
    fields.update(overrides)
    return batch.add_proposal(session, NewProposal(**fields))


# SQLite's reflection can't read an index on an expression (lower(case_ref)), so there that one
# index goes uncompared; PostgreSQL compares it.
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    assert migrate.is_current(engine)


def test_amounts_and_times_round_trip_exactly(session: Session) -> None:
    when = datetime(2026, 11, 24, 10, 30, 15, 123456, tzinfo=UTC)
    proposal = make_proposal(session, amount=Decimal("1234567.89"), customer_fair=Decimal("0.10"), created_at=when)
    session.expire_all()
    loaded = queries.get_proposal(session, proposal_id=proposal.id)
    assert loaded is not None
    assert loaded.amount == Decimal("1234567.89")
    assert loaded.customer_fair == Decimal("0.10")
    assert loaded.created_at == when
    assert loaded.created_at.tzinfo is not None


def test_words_are_stored_as_their_values_and_read_back_as_enums(session: Session) -> None:
    proposal = make_proposal(session, status=Status.PENDING, tier=Tier.LEAD)
    queries.enqueue(session, kind=OutboxKind.REQUEST, channel="C0REQ", at=T0, proposal_id=proposal.id)
    stored = session.execute(text("SELECT status, tier FROM proposal WHERE id = :id"), {"id": proposal.id}).one()
    assert tuple(stored) == ("pending", "lead")
    assert session.execute(text("SELECT kind, status FROM outbox_message")).one() == ("request", "pending")
    session.expire_all()
    loaded = queries.get_proposal(session, proposal_id=proposal.id)
    assert loaded is not None
    assert (loaded.status, loaded.tier) == (Status.PENDING, Tier.LEAD)
    assert type(loaded.status) is Status
    assert type(loaded.tier) is Tier
    message = queries.outbox_message(session, proposal_id=proposal.id, kind=OutboxKind.REQUEST)
    assert message is not None
    assert type(message.kind) is OutboxKind
    assert type(message.status) is OutboxStatus


def test_change_status_is_conditional(session: Session) -> None:
    proposal = make_proposal(session)
    first = queries.change_status(
        session,
        proposal_id=proposal.id,
        from_statuses=[Status.PENDING],
        to_status=Status.GRANTED,
        decided_by="U0BEN",
        decided_at=T0,
    )
    second = queries.change_status(
        session,
        proposal_id=proposal.id,
        from_statuses=[Status.PENDING],
        to_status=Status.GRANTED,
        decided_by="U0CHO",
        decided_at=T0,
    )
    assert (first, second) == (True, False)
    loaded = queries.get_proposal(session, proposal_id=proposal.id)
    assert loaded is not None
    assert loaded.decided_by == "U0BEN"


def test_open_asks_and_last_asked(session: Session) -> None:
    make_proposal(session, asked="U0BEN", created_at=T0)
    make_proposal(session, asked="U0BEN", created_at=T0 + timedelta(minutes=5))
    make_proposal(session, asked="U0CHO", created_at=T0 + timedelta(minutes=1), status="granted")
    assert queries.open_asks(session, users=["U0BEN", "U0CHO", "U0DAN"]) == {"U0BEN": 2}
    last = queries.last_asked(session, users=["U0BEN", "U0CHO", "U0DAN"])
    assert last == {"U0BEN": T0 + timedelta(minutes=5), "U0CHO": T0 + timedelta(minutes=1)}


def test_find_by_request_message(session: Session) -> None:
    proposal = make_proposal(session)
    queries.set_request_message(session, proposal_id=proposal.id, channel="C0REQ", ts="1732440000.000100")
    found = queries.proposal_by_request_message(session, channel="C0REQ", ts="1732440000.000100")
    assert found is not None
    assert found.id == proposal.id
    assert queries.proposal_by_request_message(session, channel="C0REQ", ts="1.2") is None


def test_outbox_claims_each_message_once_and_retakes_expired_leases(session: Session) -> None:
    clock = FakeClock(T0)
    proposal = make_proposal(session)
    for kind in (OutboxKind.DECISION, OutboxKind.KUDOS):
        queries.enqueue(
            session, kind=kind, channel="C0DEC", at=clock(), proposal_id=proposal.id, dedupe_key=f"{kind}:{proposal.id}"
        )
    session.flush()
    now = clock()
    first = queries.claim_due(session, now=now, lease_until=now + timedelta(seconds=60), limit=10, token="one")
    again = queries.claim_due(session, now=now, lease_until=now + timedelta(seconds=60), limit=10, token="two")
    assert [m.kind for m in first] == ["decision", "kudos"]
    assert again == []
    later = clock.advance(seconds=61)  # the first sender stalled past its claim
    retaken = queries.claim_due(session, now=later, lease_until=later + timedelta(seconds=60), limit=10, token="two")
    assert len(retaken) == 2
    # The stalled sender may no longer send or record anything about them.
    assert not queries.renew_claim(session, message_id=retaken[0].id, token="one", lease_until=later)
    assert not queries.mark_sent(
        session, message_id=retaken[0].id, token="one", at=later, slack_channel="C0DEC", slack_ts="1.000000"
    )
    assert queries.renew_claim(session, message_id=retaken[0].id, token="two", lease_until=later)
    assert queries.mark_sent(
        session, message_id=retaken[0].id, token="two", at=later, slack_channel="C0DEC", slack_ts="1.000001"
    )
    queries.reschedule(
        session, message_id=retaken[1].id, token="two", at=later + timedelta(seconds=5), error="ratelimited"
    )
    assert queries.claim_due(session, now=later, lease_until=later, limit=10, token="one") == []
    count, oldest = queries.outbox_backlog(session)
    assert (count, oldest) == (1, T0)


def test_downgrade_and_upgrade_again(engine: Engine) -> None:
    migrate.downgrade(engine, "base")
    assert "proposal" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    assert {"proposal", "approval", "decision", "proposal_event", "outbox_message"} <= set(
        inspect(engine).get_table_names()
    )


def test_a_connection_in_use_is_not_pinged_and_one_dropped_while_idle_is_replaced(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = db.make_engine(database_url, pool_size=1, max_overflow=0)
    pings: list[object] = []
    ping = engine.dialect.do_ping

    def counted_ping(connection: Any) -> bool:
        pings.append(connection)
        return bool(ping(connection))

    monkeypatch.setattr(engine.dialect, "do_ping", counted_ping)
    try:
        for _ in range(3):
            with engine.begin() as connection:
                connection.execute(text("SELECT 1"))
        assert pings == []  # a connection just used costs no extra round trip
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                backend = connection.execute(text("SELECT pg_backend_pid()")).scalar()
            killer = db.make_engine(database_url)
            with killer.begin() as connection:  # the server drops it while it sits in the pool
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            killer.dispose()
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # as if it sat idle a while
        with engine.begin() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
        assert len(pings) >= 1
    finally:
        engine.dispose()


def commit_proposals(sessions: sessionmaker[Session], proposals: Sequence[NewProposal]) -> list[int]:
    """As a use case writes a batch: on a connection it owns, all or nothing."""
    with batch_connection(sessions) as connection:
        return batch.add_proposals(connection, proposals)


def test_a_transaction_that_only_reads_runs_beside_a_writer(engine: Engine) -> None:
    """On SQLite a reader takes no writer lock: it reads its snapshot while a writer works."""
    sessions = make_sessions(engine)
    try:
        with sessions.begin() as writer:
            make_proposal(writer, source_key="not yet committed")
            with db.reading(sessions) as reader:
                assert reader.scalars(select(Proposal)).all() == []
        with db.reading(sessions) as reader:
            assert [p.source_key for p in reader.scalars(select(Proposal))] == ["not yet committed"]
    finally:
        wipe(engine)


def test_a_transaction_that_only_reads_may_not_write(engine: Engine) -> None:
    sessions = make_sessions(engine)
    with pytest.raises(db.WriteWhileReading), db.reading(sessions) as session:
        make_proposal(session)
    with db.reading(sessions) as session:
        assert session.scalars(select(Proposal)).all() == []


def _new_proposal(n: int, **overrides: Any) -> NewProposal:
    when = T0 + timedelta(seconds=n, microseconds=123456)
    fields: dict[str, Any] = {
        "source_key": f"submission-{n}",
        "status": "granted",
        "remedy_id": "refund",
        "remedy_label": "Refund",
        "unit": "USD",
        "amount": Decimal("12.34") * n,
        "customer_fair": None if n % 2 else Decimal("0.10"),
        "case_ref": f"#{n}",
        "summary": f'parcel {n} "broken" \\ déjà vu 🎁',
        "tier": "alone",
        "proposer": "U0ANA",
        "asked": None,
        "origin_channel": "C0SUP" if n % 2 else None,
        "created_at": when,
        "decided_at": when,
        "decided_by": "U0ANA",
        "reroute_at": None,
        "expire_at": None,
    }
    fields.update(overrides)
    rows = Rows(
        events=(
            EventRow(at=when, kind=Event.PROPOSED, actor="U0ANA", detail={"amount": str(n), "note": 'ü "'}),
            EventRow(at=when, kind=Event.GRANTED, actor="U0ANA", detail={}),
        ),
        approvals=(ApprovalRow(approver="U0ANA", via=Via.ALONE, at=when),),
        decisions=(DecisionRow(tier=Tier.ALONE, agreed_by=None, granted_at=when, seconds_to_decision=n),),
        outbox=tuple(
            queries.outbox_row(kind=kind, channel=channel, at=when, dedupe_key=f"{kind}:{queries.THIS_PROPOSAL}")
            for kind, channel in ((OutboxKind.DECISION, "C0DEC"), (OutboxKind.KUDOS, "C0KUD"))
        ),
    )
    return NewProposal(**fields, rows=rows)


def test_proposals_committed_together_come_back_whole(engine: Engine) -> None:
    sessions = make_sessions(engine)
    proposals = [_new_proposal(n) for n in (1, 2, 3)]
    try:
        ids = commit_proposals(sessions, proposals)
        with sessions() as session:  # a fresh session: only what was committed
            assert len(set(ids)) == 3
            assert ids == sorted(ids)
            for proposal_id, fields in zip(ids, [p.values() for p in proposals], strict=True):
                loaded = queries.get_proposal(session, proposal_id=proposal_id)
                assert loaded is not None
                assert {name: getattr(loaded, name) for name in fields} == fields
                assert loaded.created_at.tzinfo is not None
                events = session.scalars(
                    select(ProposalEvent).where(ProposalEvent.proposal_id == proposal_id).order_by(ProposalEvent.id)
                ).all()
                assert [(e.kind, e.detail) for e in events] == [
                    ("proposed", {"amount": fields["case_ref"][1:], "note": 'ü "'}),
                    ("granted", {}),
                ]
                approval = session.scalars(select(Approval).where(Approval.proposal_id == proposal_id)).one()
                assert (approval.approver, approval.via, approval.at) == ("U0ANA", "alone", fields["created_at"])
                decision = session.scalars(select(Decision).where(Decision.proposal_id == proposal_id)).one()
                assert (decision.tier, decision.agreed_by, decision.granted_at) == ("alone", None, fields["created_at"])
            posts = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
            # Owed posts are queued in the order the proposals came, each named for its own proposal.
            assert [(m.proposal_id, m.kind, m.dedupe_key, m.status, m.next_attempt_at) for m in posts] == [
                (proposal_id, kind, f"{kind}:{proposal_id}", "pending", fields["created_at"])
                for proposal_id, fields in zip(ids, [p.values() for p in proposals], strict=True)
                for kind in ("decision", "kudos")
            ]
    finally:
        wipe(engine)


def test_a_batch_with_one_repeated_submission_writes_nothing(engine: Engine) -> None:
    sessions = make_sessions(engine)
    try:
        commit_proposals(sessions, [_new_proposal(1)])
        with pytest.raises(IntegrityError):
            commit_proposals(sessions, [_new_proposal(2), _new_proposal(3, source_key="submission-1")])
        with sessions() as session:
            assert [p.source_key for p in session.scalars(select(Proposal))] == ["submission-1"]
            assert len(session.scalars(select(ProposalEvent)).all()) == 2
            assert len(session.scalars(select(OutboxMessage)).all()) == 2
    finally:
        wipe(engine)


def test_after_a_batch_its_connection_is_back_to_transactions(engine: Engine, database_url: str) -> None:
    one_connection = make_engine(database_url, pool_size=1, max_overflow=0)
    sessions = make_sessions(one_connection)
    try:
        assert commit_proposals(sessions, []) == []
        commit_proposals(sessions, [_new_proposal(1)])  # on PostgreSQL, without a transaction

        def fail_after_writing() -> None:
            with sessions.begin() as session:
                make_proposal(session, source_key="undone")
                raise RuntimeError("the use case fails after writing")

        with pytest.raises(RuntimeError, match="fails after writing"):
            fail_after_writing()
        with sessions() as session:
            assert [p.source_key for p in session.scalars(select(Proposal))] == ["submission-1"]
    finally:
        one_connection.dispose()
        wipe(engine)
