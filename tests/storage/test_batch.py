"""New proposals' typed rows, and a batch written after another."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Engine, Table, inspect, select

from bot.core.lifecycle import Event
from bot.core.vocabulary import OutboxKind, OutboxStatus
from storage import batch
from storage.batch import THIS_PROPOSAL, ApprovalRow, DecisionRow, EventRow, NewProposal, OutboxRow, outbox_row
from storage.db import make_sessions
from storage.models import Approval, Decision, OutboxMessage, Proposal, ProposalEvent
from storage.queries.decisions import ended_between
from tests.storage.test_storage import _new_proposal, commit_proposals
from tests.support import wipe

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("row_type", "model"),
    [
        (NewProposal, Proposal),
        (EventRow, ProposalEvent),
        (ApprovalRow, Approval),
        (DecisionRow, Decision),
        (OutboxRow, OutboxMessage),
    ],
)
def test_each_row_type_gives_columns_of_its_table_and_every_defaulted_one(row_type: Any, model: Any) -> None:
    table = cast(Table, model.__table__)
    given = set(batch.columns_of(row_type))
    assert given <= set(table.c.keys())
    assert {c.name for c in table.c if c.default is not None} <= given
    assert "id" not in given
    assert "proposal_id" not in given


@pytest.mark.parametrize(
    ("dedupe_key", "proposal_id", "expected"),
    [
        (None, 7, None),
        (f"decision:{THIS_PROPOSAL}", 7, "decision:7"),
        (f"kudos:{THIS_PROPOSAL}", 12345, "kudos:12345"),
        ("notice:U0ANA:weekly", 7, "notice:U0ANA:weekly"),
    ],
)
def test_a_child_row_names_its_proposal_by_id(dedupe_key: str | None, proposal_id: int, expected: str | None) -> None:
    row = outbox_row(kind=OutboxKind.DECISION, channel="C0DEC", at=T0, dedupe_key=dedupe_key)
    values = batch.child_values(row, proposal_id)
    assert (values["proposal_id"], values["dedupe_key"]) == (proposal_id, expected)


def test_an_owed_message_is_first_written_pending_and_due_when_made() -> None:
    row = outbox_row(kind=OutboxKind.KUDOS, channel="C0KUD", at=T0)
    assert row.values() == {
        "kind": OutboxKind.KUDOS,
        "channel": "C0KUD",
        "created_at": T0,
        "next_attempt_at": T0,
        "user": None,
        "detail": {},
        "dedupe_key": None,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
    }


def test_a_later_batch_names_its_own_proposals(engine: Engine) -> None:
    """Children name their proposal by place in the batch; the ids they end up with are the
    ones drawn, whatever came before."""
    sessions = make_sessions(engine)
    try:
        first = commit_proposals(sessions, [_new_proposal(n) for n in (1, 2)])
        later = commit_proposals(sessions, [_new_proposal(n) for n in (3, 4, 5)])
        assert later == sorted(later)
        assert min(later) > max(first)
        with sessions() as session:
            posts = session.scalars(
                select(OutboxMessage).where(OutboxMessage.proposal_id.in_(later)).order_by(OutboxMessage.id)
            ).all()
            assert [(m.proposal_id, m.dedupe_key) for m in posts] == [
                (proposal_id, f"{kind}:{proposal_id}") for proposal_id in later for kind in ("decision", "kudos")
            ]
            events = session.scalars(select(ProposalEvent).where(ProposalEvent.proposal_id.in_(later))).all()
            assert sorted(e.proposal_id for e in events) == sorted(later * 2)
            assert {e.kind for e in events} == {Event.PROPOSED, Event.GRANTED}
    finally:
        wipe(engine)


def test_a_time_on_a_whole_second_is_found_by_a_range_that_starts_at_it(engine: Engine) -> None:
    """A batch writes each time as SQLAlchemy binds it, so on SQLite, which compares times as
    text, a grant made on the whole second is inside a range starting at that very second."""
    sessions = make_sessions(engine)
    on_the_second = T0 + timedelta(seconds=5)
    try:
        (written,) = commit_proposals(sessions, [_new_proposal(5, created_at=on_the_second, decided_at=on_the_second)])
        with sessions() as session:
            found = ended_between(session, since=on_the_second, until=on_the_second, limit=None)
            assert [row.id for row in found] == [written]
            assert ended_between(session, since=on_the_second, until=None, limit=None, after_id=written) == []
    finally:
        wipe(engine)


def test_a_proposal_as_written_reads_as_the_model_made_of_its_values() -> None:
    values = _new_proposal(3).values()
    written, made = batch.as_written(42, values), Proposal(id=42, **values)
    assert {name: getattr(written, name) for name in (*values, "id")} == {
        name: getattr(made, name) for name in (*values, "id")
    }
    state = inspect(written)
    assert state.transient  # of no session
    assert not state.modified  # with nothing to write


def test_a_proposal_as_written_first_in_a_process_reads_its_values() -> None:
    """Made before anything else has configured the models (the constructor would have)."""
    code = (
        "from tests.storage.test_storage import _new_proposal\n"
        "from storage import batch\n"
        "values = _new_proposal(3).values()\n"
        "written = batch.as_written(42, values)\n"
        "assert (written.id, written.case_ref, written.amount) == (42, values['case_ref'], values['amount'])\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


def test_a_batch_writes_times_as_they_are_compared_on_a_whole_second_too(engine: Engine) -> None:
    """A time a batch writes equals the same time in a query (a re-route claims a request only at
    the deadline it read), microseconds or none."""
    sessions = make_sessions(engine)
    try:
        whole = T0.replace(second=30)
        ids = commit_proposals(sessions, [_new_proposal(1, created_at=whole, reroute_at=whole, decided_at=whole)])
        with sessions() as session:
            found = session.scalars(
                select(Proposal.id).where(Proposal.created_at == whole, Proposal.reroute_at >= whole)
            ).all()
            assert found == ids
    finally:
        wipe(engine)
