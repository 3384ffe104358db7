"""What the Home, whom to ask and the schedule read is the same as before, read through indexes
that don't grow with history: the review queue counted to a bound, kudos counted in two parts,
the requests waiting for someone in two bounded reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Select, delete, func, select, text
from sqlalchemy.orm import Session

from bot.core.lifecycle import Status
from bot.core.policy import Tier
from bot.core.vocabulary import ReviewOutcome
from storage import migrate, queries
from storage.batch import DecisionRow, Rows
from storage.db import make_engine
from storage.models import Decision, Proposal, ProposalEvent
from storage.queries._pending import PENDING
from storage.queries.review import UNREVIEWED_DECISIONS
from tests.storage.test_storage import T0, make_proposal


def granted(
    session: Session, *, proposer: str, agreed_by: str | None, reviewed: bool = False, **facts: Any
) -> Proposal:
    tier = Tier.PEER if agreed_by else Tier.ALONE
    decision = DecisionRow(tier=tier, agreed_by=agreed_by, granted_at=T0, seconds_to_decision=60)
    proposal = make_proposal(
        session, status="granted", proposer=proposer, asked=agreed_by, rows=Rows(decisions=(decision,)), **facts
    )
    if reviewed:
        assert queries.record_review(
            session, proposal_id=proposal.id, at=T0, by="U0LEE", outcome=ReviewOutcome.LOOKS_GOOD, note=None
        )
    return proposal


def test_the_review_queue_is_counted_no_further_than_asked(session: Session) -> None:
    for i in range(5):
        granted(session, proposer="U0ANA", agreed_by=None, reviewed=i == 0, case_ref=f"#{i}")
    assert queries.review_queue_size(session, up_to=10) == 4
    assert queries.review_queue_size(session, up_to=3) == 3
    assert [p.case_ref for p, _ in queries.review_queue(session, limit=2)] == ["#1", "#2"]


def test_kudos_count_what_a_person_decided_and_what_they_agreed_to(session: Session) -> None:
    granted(session, proposer="U0ANA", agreed_by=None)  # alone
    granted(session, proposer="U0ANA", agreed_by="U0BEN")
    granted(session, proposer="U0BEN", agreed_by="U0ANA")
    granted(session, proposer="U0CHO", agreed_by="U0BEN")
    make_proposal(session, proposer="U0ANA", asked="U0BEN")  # pending: not celebrated yet
    make_proposal(session, proposer="U0ANA", asked="U0BEN", status="declined")
    assert queries.kudos_count(session, user="U0ANA") == 3
    assert queries.kudos_count(session, user="U0BEN") == 3
    assert queries.kudos_count(session, user="U0CHO") == 1
    assert queries.kudos_count(session, user="U0DAN") == 0


def test_requests_waiting_for_someone_come_asked_first_then_oldest(session: Session) -> None:
    at = [T0 + timedelta(minutes=m) for m in range(6)]
    asked_late = make_proposal(session, proposer="U0BEN", asked="U0ANA", created_at=at[4], case_ref="#asked-late")
    other_early = make_proposal(session, proposer="U0CHO", asked="U0DAN", created_at=at[0], case_ref="#other-early")
    asked_early = make_proposal(session, proposer="U0CHO", asked="U0ANA", created_at=at[2], case_ref="#asked-early")
    other_late = make_proposal(session, proposer="U0BEN", asked="U0CHO", created_at=at[3], case_ref="#other-late")
    make_proposal(session, proposer="U0ANA", asked="U0BEN", created_at=at[1], case_ref="#own")
    make_proposal(session, proposer="U0BEN", asked="U0ANA", created_at=at[1], case_ref="#done", status="granted")
    make_proposal(session, proposer="U0BEN", asked=None, created_at=at[1], case_ref="#alone", tier="alone")
    waiting = queries.pending_for_others(session, user="U0ANA", limit=10)
    assert [p.id for p in waiting] == [asked_early.id, asked_late.id, other_early.id, other_late.id]
    assert [p.id for p in queries.pending_for_others(session, user="U0ANA", limit=3)] == [
        asked_early.id,
        asked_late.id,
        other_early.id,
    ]
    assert [p.id for p in queries.pending_for_others(session, user="U0ANA", limit=1)] == [asked_early.id]


def test_a_persons_pending_requests_oldest_first_and_only_as_many_as_asked(session: Session) -> None:
    made = [make_proposal(session, proposer="U0ANA", case_ref=f"#{i}") for i in range(4)]
    make_proposal(session, proposer="U0ANA", case_ref="#9", status="granted")
    make_proposal(session, proposer="U0BEN", case_ref="#8")
    assert [p.id for p in queries.pending_of(session, proposer="U0ANA")] == [p.id for p in made]
    assert [p.id for p in queries.pending_of(session, proposer="U0ANA", limit=2)] == [p.id for p in made[:2]]
    assert [p.id for p in queries.pending_of(session, proposer="U0ANA", case_ref="#2")] == [made[2].id]


def test_last_asked_for_many_people_at_once(session: Session) -> None:
    people = [f"U0P{i:03d}" for i in range(300)]
    for i, person in enumerate(people[:200]):
        make_proposal(session, asked=person, created_at=T0 + timedelta(seconds=i), status="granted")
        make_proposal(session, asked=person, created_at=T0 - timedelta(days=1))
    last = queries.last_asked(session, users=[*people, people[0]])
    assert last == {person: T0 + timedelta(seconds=i) for i, person in enumerate(people[:200])}
    assert queries.last_asked(session, users=[]) == {}


# --- the indexes the reads use ---------------------------------------------------------------


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite database, without statistics: as most are, and as the planner then guesses.
    (PostgreSQL chooses by its statistics, so only a large table shows its choice.)"""
    engine = make_engine(f"sqlite:///{tmp_path / 'plans.db'}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def plan(engine: Engine, query: Select[Any]) -> str:
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        return " | ".join(str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (select(Proposal.id).where(PENDING, Proposal.asked == "U0BEN"), "ix_proposal_pending_asked"),
        (select(Proposal.id).where(PENDING).order_by(Proposal.created_at).limit(5), "ix_proposal_pending_created_at"),
        (
            select(Proposal.id).where(PENDING, Proposal.reroute_at <= T0).order_by(Proposal.reroute_at, Proposal.id),
            "ix_proposal_pending_reroute_at",
        ),
        (
            select(Proposal.id).where(PENDING, Proposal.expire_at <= T0).order_by(Proposal.expire_at, Proposal.id),
            "ix_proposal_pending_expire_at",
        ),
        (select(Proposal.id).where(Proposal.proposer == "U0ANA", PENDING).order_by(Proposal.id), "proposer_status"),
        (select(Proposal.id).where(PENDING, Proposal.expire_at.is_(None)), "ix_proposal_pending_"),
        (select(Decision.id).where(*UNREVIEWED_DECISIONS).order_by(Decision.granted_at), "unreviewed"),
        (select(Decision.id).where(Decision.agreed_by == "U0BEN"), "ix_decision_agreed_by"),
    ],
)
def test_reads_of_the_present_use_the_indexes_of_it(sqlite: Engine, query: Select[Any], index: str) -> None:
    shown = plan(sqlite, query)
    assert index in shown
    assert "TEMP B-TREE" not in shown  # no sort of all that matches


def test_pending_is_written_into_the_sql_not_bound() -> None:
    assert str(select(Proposal.id).where(PENDING)).endswith(f"WHERE proposal.status = '{Status.PENDING.value}'")


def counted_afresh(session: Session) -> tuple[dict[str, int], dict[str, datetime]]:
    """Open asks and when each person was last asked, counted over every proposal."""
    open_asks = session.execute(
        select(Proposal.asked, func.count()).where(Proposal.status == Status.PENDING).group_by(Proposal.asked)
    )
    latest = session.execute(select(Proposal.asked, func.max(Proposal.created_at)).group_by(Proposal.asked))
    return (
        {user: count for user, count in open_asks if user is not None},
        {user: at for user, at in latest if user is not None},
    )


def test_each_persons_load_follows_every_write_of_a_proposal(session: Session) -> None:
    people = ["U0ANA", "U0BEN", "U0CHO", "U0DAN"]

    def agrees() -> None:
        session.flush()
        assert (queries.open_asks(session, users=people), queries.last_asked(session, users=people)) == (
            counted_afresh(session)
        )

    first = make_proposal(session, asked="U0BEN", created_at=T0)
    second = make_proposal(
        session, asked="U0BEN", created_at=T0 + timedelta(minutes=5), reroute_at=T0 + timedelta(minutes=15)
    )
    make_proposal(session, asked="U0CHO", created_at=T0 + timedelta(minutes=1), status="granted")
    make_proposal(session, asked=None, created_at=T0 + timedelta(minutes=9), tier="alone", status="granted")
    agrees()
    assert queries.open_asks(session, users=people) == {"U0BEN": 2}
    # Re-routed: Ben has one open ask fewer, and was last asked by the request that still asks him.
    due = second.reroute_at
    assert due is not None
    assert queries.claim_reroute(session, proposal_id=second.id, was_due_at=due, asked="U0DAN", next_reroute_at=None)
    agrees()
    assert queries.last_asked(session, users=["U0BEN"]) == {"U0BEN": T0}
    for status in (Status.GRANTED, Status.DECLINED):  # decided: no longer open, still last asked
        assert queries.change_status(session, proposal_id=first.id, from_statuses=[first.status], to_status=status)
        first.status = status
        agrees()
    assert queries.open_asks(session, users=people) == {"U0DAN": 1}
    assert queries.change_status(
        session, proposal_id=first.id, from_statuses=[Status.DECLINED], to_status=Status.PENDING, asked="U0ANA"
    )
    agrees()
    session.execute(delete(ProposalEvent))
    session.execute(delete(Proposal).where(Proposal.id == second.id))
    agrees()
    assert "U0DAN" not in queries.last_asked(session, users=people)


def test_a_chunk_of_re_routes_is_claimed_in_one_statement_and_loads_follow(session: Session) -> None:
    people = ["U0ANA", "U0BEN", "U0CHO", "U0DAN"]
    due = T0 + timedelta(minutes=10, microseconds=7)  # to the microsecond, as the column keeps it
    ben = make_proposal(session, asked="U0BEN", created_at=T0, reroute_at=due)
    cho = make_proposal(session, asked="U0CHO", created_at=T0 + timedelta(minutes=1), reroute_at=due)
    moved_on = make_proposal(session, asked="U0DAN", created_at=T0 + timedelta(minutes=2), reroute_at=due)
    decided = make_proposal(session, asked="U0ANA", created_at=T0 + timedelta(minutes=3), reroute_at=due)
    make_proposal(session, asked="U0BEN", created_at=T0 - timedelta(days=1), status="granted")
    pending = [Status.PENDING]
    assert queries.change_status(session, proposal_id=decided.id, from_statuses=pending, to_status=Status.GRANTED)
    session.flush()
    later = due + timedelta(minutes=10)
    claims = [
        (ben.id, due, "U0DAN"),
        (cho.id, due, None),  # no one else is around: it waits, asking no one
        (moved_on.id, due - timedelta(microseconds=1), "U0ANA"),  # due at another time: moved on already
        (decided.id, due, "U0BEN"),
    ]
    assert queries.claim_reroutes(session, claims=claims, next_reroute_at=later) == {ben.id, cho.id}
    assert queries.claim_reroutes(session, claims=[], next_reroute_at=later) == set()
    session.flush()
    rows = dict(session.execute(select(Proposal.id, Proposal.asked).where(Proposal.reroute_at == later)).all())
    assert rows == {ben.id: "U0DAN", cho.id: None}
    assert (queries.open_asks(session, users=people), queries.last_asked(session, users=people)) == (
        counted_afresh(session)
    )
    assert queries.open_asks(session, users=people) == {"U0DAN": 2}


def test_each_persons_latest_ask_outside_a_chunk(session: Session) -> None:
    chunk = [
        make_proposal(session, asked="U0BEN", created_at=T0 + timedelta(minutes=5)),
        make_proposal(session, asked="U0CHO", created_at=T0 + timedelta(minutes=6)),
    ]
    make_proposal(session, asked="U0BEN", created_at=T0 + timedelta(microseconds=3), status="declined")
    make_proposal(session, asked="U0BEN", created_at=T0 - timedelta(days=1))
    make_proposal(session, asked="U0DAN", created_at=T0 + timedelta(minutes=9))
    session.flush()
    besides = [p.id for p in chunk]
    found = queries.latest_asked_besides(session, users={"U0BEN", "U0CHO", "U0DAN", "U0EVE"}, besides=besides)
    assert found == {"U0BEN": T0 + timedelta(microseconds=3), "U0DAN": T0 + timedelta(minutes=9)}
    assert queries.latest_asked_besides(session, users=set(), besides=besides) == {}
