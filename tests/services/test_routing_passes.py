"""Many requests due at once: each is re-routed, or expired, exactly once, fairly, whether one
instance or two run the pass, and a chunk at a time gives the same picks as one at a time."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Engine, event, select

from bot import services
from bot.core.authority import Roster
from bot.core.lifecycle import Event, Status
from bot.core.parsing import Draft
from bot.core.vocabulary import OutboxKind, Via
from bot.services import routing
from storage import queries
from storage.db import make_engine, make_sessions
from storage.models import OutboxMessage, Proposal, ProposalEvent
from tests.policies import team_policy
from tests.support import FakeClock, wipe

POLICY = team_policy()  # re-route after 10 minutes, expire after 4 hours
AGENTS = tuple(f"U0A{i:02d}" for i in range(8))
ROSTER = Roster(agents=AGENTS, leads=("U0LEE", "U0LIZ"), bot_user="U0BOT")
MANY = 2 * routing.DUE_CHUNK + 7  # more than two chunks


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ctx(engine: Engine, clock: FakeClock) -> Iterator[services.Context]:
    wipe(engine)
    yield context(engine, clock)
    wipe(engine)


def context(engine: Engine, clock: FakeClock) -> services.Context:
    return services.Context(base_policy=POLICY, roster=lambda: ROSTER, sessions=make_sessions(engine), clock=clock)


def ask_many(ctx: services.Context, clock: FakeClock, count: int = MANY) -> None:
    """`count` peer requests, from agents in turn, a second apart."""
    for i in range(count):
        draft = Draft(remedy_id="refund", amount=Decimal(80), case_ref=f"#{i}", summary="parcel broken")
        proposer = AGENTS[i % len(AGENTS)]
        result = services.propose(ctx, proposer=proposer, draft=draft, origin_channel=None, source_key=None)
        assert isinstance(result, services.Asked)
        clock.advance(seconds=1)


def asks(engine: Engine) -> dict[str, list[str]]:
    """Everyone each request asked, first to last, by case."""
    with make_sessions(engine)() as session:
        proposals = session.scalars(select(Proposal).order_by(Proposal.id)).all()
        return {p.case_ref: queries.asked_so_far(session, proposal_id=p.id) for p in proposals}


def outbox_of(engine: Engine, kind: OutboxKind) -> list[OutboxMessage]:
    with make_sessions(engine)() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def at_once(*passes: Callable[[], int]) -> list[int]:
    """Run the passes in threads started together, as two instances' schedules would."""
    results = [0] * len(passes)
    start = threading.Barrier(len(passes))

    def run(index: int) -> None:
        start.wait()
        results[index] = passes[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(passes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_many_due_requests_are_each_offered_to_one_more_person_once(
    ctx: services.Context, engine: Engine, clock: FakeClock
) -> None:
    ask_many(ctx, clock)
    first = asks(engine)
    clock.advance(minutes=10)
    assert services.reroute_due(ctx) == MANY
    after = asks(engine)
    proposers = {f"#{i}": AGENTS[i % len(AGENTS)] for i in range(MANY)}
    for case, asked in after.items():
        assert len(asked) == 2
        assert asked[0] == first[case][0]
        assert asked[1] not in (asked[0], proposers[case])  # no one asked twice, never the proposer
    pings = outbox_of(engine, OutboxKind.REROUTE_PING)
    assert len(pings) == MANY
    assert len({p.proposal_id for p in pings}) == MANY
    assert services.reroute_due(ctx) == 0  # moved on: not due again until its next deadline
    assert len(outbox_of(engine, OutboxKind.REROUTE_PING)) == MANY


def statements_of_a_pass(ctx: services.Context, engine: Engine, clock: FakeClock, due: int) -> int:
    """How many statements a pass over `due` requests sends (after they were asked)."""
    wipe(engine)
    ask_many(ctx, clock, due)
    clock.advance(minutes=10)
    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert services.reroute_due(ctx) == due
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(sent)


def test_a_chunk_sends_as_many_statements_for_many_requests_as_for_two(
    ctx: services.Context, engine: Engine, clock: FakeClock
) -> None:
    # A round trip costs a pass most under load, each a wait to win the interpreter back: a
    # chunk's writes and reads are one statement each, whatever the number of requests.
    few = statements_of_a_pass(ctx, engine, clock, 2)
    assert statements_of_a_pass(ctx, engine, clock, routing.DUE_CHUNK - 1) == few  # one chunk, as two are
    assert few <= 12


def test_a_pass_in_chunks_picks_as_fairly_as_one_request_at_a_time(
    ctx: services.Context, engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ask_many(ctx, clock)
    clock.advance(minutes=10)
    assert services.reroute_due(ctx) == MANY
    in_chunks = asks(engine)

    wipe(engine)
    one_by_one = FakeClock()
    monkeypatch.setattr(routing, "DUE_CHUNK", 1)
    ask_many(context(engine, one_by_one), one_by_one)
    one_by_one.advance(minutes=10)
    assert services.reroute_due(context(engine, one_by_one)) == MANY
    assert asks(engine) == in_chunks
    # Spread over everyone who may agree, none left out, none with twice another's share.
    open_asks = Counter(asked[-1] for asked in in_chunks.values())
    assert set(open_asks) == set(ROSTER.everyone())
    assert max(open_asks.values()) < 2 * min(open_asks.values())


def test_two_instances_move_and_expire_many_requests_once_each(
    ctx: services.Context, engine: Engine, database_url: str, clock: FakeClock
) -> None:
    ask_many(ctx, clock)
    other_engine = make_engine(database_url)  # another instance: its own connections
    other = context(other_engine, clock)
    try:
        clock.advance(minutes=10)
        assert sum(at_once(lambda: services.reroute_due(ctx), lambda: services.reroute_due(other))) == MANY
        assert all(len(asked) == 2 for asked in asks(engine).values())
        assert len(outbox_of(engine, OutboxKind.REROUTE_PING)) == MANY

        clock.advance(hours=4)
        assert sum(at_once(lambda: services.expire_due(ctx), lambda: services.expire_due(other))) == MANY
    finally:
        other_engine.dispose()
    with make_sessions(engine)() as session:
        assert set(session.scalars(select(Proposal.status))) == {Status.EXPIRED}
        expiries = Counter(
            session.scalars(select(ProposalEvent.proposal_id).where(ProposalEvent.kind == Event.EXPIRED))
        )
    assert len(expiries) == MANY
    assert set(expiries.values()) == {1}
    notes = outbox_of(engine, OutboxKind.PROPOSER_NOTE)
    assert len(notes) == MANY
    assert len({n.proposal_id for n in notes}) == MANY
    assert services.expire_due(ctx) == 0


def test_a_request_decided_before_the_pass_is_left_alone(
    ctx: services.Context, engine: Engine, clock: FakeClock
) -> None:
    ask_many(ctx, clock, 3)
    with make_sessions(engine)() as session:
        first = session.scalars(select(Proposal).order_by(Proposal.id).limit(1)).one()
    assert first.asked is not None
    assert isinstance(services.agree(ctx, proposal_id=first.id, user=first.asked, via=Via.BUTTON), services.Granted)
    clock.advance(minutes=10)
    assert services.reroute_due(ctx) == 2
    clock.advance(hours=4)
    assert services.expire_due(ctx) == 2
    with make_sessions(engine)() as session:
        granted = session.get(Proposal, first.id)
        assert granted is not None
        assert granted.status == Status.GRANTED
    assert asks(engine)[first.case_ref] == [first.asked]  # never offered on once granted


def test_a_pass_stops_at_its_bound_and_the_next_takes_the_rest(
    ctx: services.Context, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routing, "DUE_CHUNK", 2)
    monkeypatch.setattr(routing, "DUE_PER_PASS", 4)
    ask_many(ctx, clock, 5)
    clock.advance(minutes=10)
    assert services.reroute_due(ctx) == 4
    assert services.reroute_due(ctx) == 1
    clock.advance(hours=4)
    assert services.expire_due(ctx) == 4
    assert services.expire_due(ctx) == 1
