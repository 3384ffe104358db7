"""Upgrading a database made by an earlier Leeway keeps every proposal and decision."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from bot import services
from bot.core.authority import Roster
from storage import migrate, queries
from storage.db import make_engine, make_sessions
from storage.models import Proposal, ProposalEvent
from tests.policies import AGENTS, LEADS, team_policy
from tests.support import FakeClock, reset_postgres

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def old_database(database_url: str, engine: Engine) -> Iterator[Engine]:
    """A database at the first schema, as the first release left it."""
    if database_url.startswith("sqlite"):
        url = database_url.replace("leeway.db", "upgrade.db")
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)  # each test starts at the first schema
    else:
        reset_postgres(database_url)
        url = database_url
    old = make_engine(url)
    migrate.upgrade(old, "0001")
    try:
        yield old
    finally:
        old.dispose()
        if not url.startswith("sqlite"):
            reset_postgres(database_url)
            migrate.upgrade(engine)  # leave the shared database as the other tests expect it


def populate_first_schema(engine: Engine) -> None:
    rows = [  # id, status, tier, asked, decided_by
        (1, "granted", "alone", None, "U0ANA"),
        (2, "granted", "peer", "U0BEN", "U0BEN"),
        (3, "declined", "peer", "U0CHO", "U0CHO"),
        (4, "pending", "lead", "U0LEE", None),
    ]
    with engine.begin() as connection:
        for pid, status, tier, asked, decided_by in rows:
            connection.execute(
                text(
                    "INSERT INTO proposal (id, status, remedy_id, remedy_label, unit, amount, case_ref, summary, tier, "
                    "proposer, asked, created_at, decided_at, decided_by, request_channel, request_ts) VALUES "
                    "(:id, :status, 'refund', 'Refund', 'USD', :amount, :case, 'x', :tier, 'U0ANA', :asked, :t0, "
                    ":decided_at, :decided_by, 'C0REQ', :ts)"
                ),
                {
                    "id": pid,
                    "status": status,
                    "amount": 4000 * pid,
                    "case": f"#{pid}",
                    "tier": tier,
                    "asked": asked,
                    "t0": T0,
                    "decided_at": T0 if decided_by else None,
                    "decided_by": decided_by,
                    "ts": f"1763629200.00000{pid}",
                },
            )
            connection.execute(
                text(
                    "INSERT INTO proposal_event (proposal_id, at, kind, actor, detail) "
                    "VALUES (:id, :t0, 'proposed', 'U0ANA', '{}')"
                ),
                {"id": pid, "t0": T0},
            )
        for pid, agreed_by in ((1, None), (2, "U0BEN")):
            connection.execute(
                text(
                    "INSERT INTO decision (proposal_id, tier, agreed_by, granted_at, "
                    "seconds_to_decision) VALUES (:id, 'peer', :by, :t0, 60)"
                ),
                {"id": pid, "by": agreed_by, "t0": T0},
            )


def test_upgrading_keeps_every_proposal_and_decision(old_database: Engine) -> None:
    populate_first_schema(old_database)
    migrate.upgrade(old_database)
    assert migrate.is_current(old_database)
    sessions = make_sessions(old_database)
    with sessions.begin() as session:
        amounts = [queries.get_proposal(session, proposal_id=i).amount for i in range(1, 5)]  # type: ignore[union-attr]
        assert [str(a) for a in amounts] == ["40.00", "80.00", "120.00", "160.00"]
        assert queries.decision_of(session, proposal_id=2).agreed_by == "U0BEN"  # type: ignore[union-attr]
        assert queries.decision_of(session, proposal_id=1) is not None
        assert len(queries.events_of(session, proposal_id=4)) == 1

    # The pending request from before joins the schedule: it can still be re-routed and expire.
    clock = FakeClock(T0 + timedelta(days=4))
    ctx = services.Context(
        base_policy=team_policy(), roster=lambda: Roster(agents=AGENTS, leads=LEADS), sessions=sessions, clock=clock
    )
    assert services.reroute_due(ctx) == 0  # adopted from now; nothing due yet
    with sessions.begin() as session:
        adopted = queries.get_proposal(session, proposal_id=4)
        assert adopted is not None
        assert adopted.expire_at == clock() + timedelta(hours=4)
    clock.advance(minutes=10)
    assert services.reroute_due(ctx) == 1
    clock.advance(hours=4)
    assert services.expire_due(ctx) == 1
    with sessions.begin() as session:
        statuses = [queries.get_proposal(session, proposal_id=i).status for i in range(1, 5)]  # type: ignore[union-attr]
    assert statuses == ["granted", "granted", "declined", "expired"]


def test_people_in_the_history_are_known_and_only_the_others_are_welcomed(old_database: Engine) -> None:
    populate_first_schema(old_database)  # Ana proposed; Ben, Cho and Lee were asked or decided
    migrate.upgrade(old_database)
    sessions = make_sessions(old_database)
    ctx = services.Context(
        base_policy=team_policy(),
        roster=lambda: Roster(agents=AGENTS, leads=LEADS),
        sessions=sessions,
        clock=FakeClock(),
    )
    with sessions.begin() as session:
        known = queries.people(session, users=[*AGENTS, *LEADS])
    assert sorted(known) == ["U0ANA", "U0BEN", "U0CHO", "U0LEE"]
    assert {person.welcome for person in known.values()} == {"not_owed"}
    assert services.welcome_due(ctx) == 2  # Dan and Liz, new to Leeway
    with sessions.begin() as session:
        assert queries.owed_welcome(session, users=[*AGENTS, *LEADS]) == []


def test_times_written_on_the_whole_second_are_inside_a_range_starting_at_them(old_database: Engine) -> None:
    """An earlier release's driver-level writes stored a whole-second time without its
    microseconds, which SQLite, comparing text, put before that very second."""
    populate_first_schema(old_database)
    migrate.upgrade(old_database, "0016")
    if old_database.dialect.name == "sqlite":  # as those writes stored them: "2026-11-20 09:00:00"
        with old_database.begin() as connection:
            for table, column in (("proposal", "created_at"), ("proposal_event", "at")):
                connection.execute(text(f"UPDATE {table} SET {column} = substr({column}, 1, 19)"))
    migrate.upgrade(old_database)
    sessions = make_sessions(old_database)
    with sessions() as session:
        since_t0 = session.scalars(select(Proposal.id).where(Proposal.created_at >= T0).order_by(Proposal.id)).all()
        ended = session.scalars(
            select(ProposalEvent.proposal_id).where(ProposalEvent.at >= T0, ProposalEvent.at <= T0)
        ).all()
    assert since_t0 == [1, 2, 3, 4]
    assert sorted(ended) == [1, 2, 3, 4]
