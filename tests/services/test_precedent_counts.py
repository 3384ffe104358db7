"""The precedent a request carries, from a count kept (counted whole every minute, moved on by
each request since) and what changed at the window's edges since, is exactly what counting the
whole window gives, as grants come and as old ones leave the window; on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot import services
from bot.core.authority import Roster
from bot.core.encouragement import MEDIAN_OF_NEWEST, PRECEDENT_WINDOW, Precedent, median
from bot.core.lifecycle import Status
from bot.core.policy import Tier
from bot.services.encouragement import KEPT_AT_MOST, SETTLED, precedent
from storage import batch, queries
from storage.batch import NewProposal
from storage.db import make_sessions
from tests.policies import team_policy
from tests.support import FakeClock, wipe

NOW = datetime(2026, 11, 24, 9, 0, 30, tzinfo=UTC)


@pytest.fixture
def ctx(engine: Engine) -> Iterator[services.Context]:
    wipe(engine)
    roster = Roster(agents=("U0ANA",), leads=("U0LEE",), bot_user="U0BOT")
    clock = FakeClock(NOW)
    yield services.Context(
        base_policy=team_policy(), roster=lambda: roster, sessions=make_sessions(engine), clock=clock
    )
    wipe(engine)


def grant(ctx: services.Context, at: datetime, amount: int, remedy_id: str = "refund") -> None:
    with ctx.sessions.begin() as session:
        batch.add_proposal(
            session,
            NewProposal(
                status=Status.GRANTED,
                remedy_id=remedy_id,
                remedy_label="Refund",
                unit="USD",
                amount=Decimal(amount),
                case_ref=f"#{at.isoformat()}",
                summary="parcel broken",
                tier=Tier.ALONE,
                proposer="U0ANA",
                created_at=at,
                decided_at=at,
                decided_by="U0ANA",
            ),
        )


def counted_whole(ctx: services.Context, now: datetime) -> Precedent:
    with ctx.sessions() as session:
        count, newest = queries.granted_lately(
            session, remedy_id="refund", since=now - PRECEDENT_WINDOW, newest=MEDIAN_OF_NEWEST
        )
    return Precedent(granted=count, median=median(newest))


def test_the_kept_count_with_its_edges_is_the_whole_windows_count(ctx: services.Context) -> None:
    edge = NOW - PRECEDENT_WINDOW
    for seconds, amount in ((-90, 5), (-20, 7), (-1, 9), (0, 11), (10, 13), (40, 15), (100, 17)):
        grant(ctx, edge + timedelta(seconds=seconds), amount)  # about to leave the window, or just in it
    grant(ctx, NOW - timedelta(days=3), 20)
    grant(ctx, NOW - timedelta(days=3), 99, remedy_id="late_fee")  # another remedy's
    seen = []
    for now in (NOW, NOW + timedelta(seconds=5), NOW + timedelta(seconds=29), NOW + timedelta(seconds=31)):
        if now == NOW + timedelta(seconds=5):
            grant(ctx, now, 30)  # a grant within the minute whose count is kept
        found = precedent(ctx, remedy_id="refund", now=now)
        assert found == counted_whole(ctx, now)
        seen.append(found.granted)
    # One came as one left; then one more left; then, in the next minute, counted afresh.
    assert seen == [5, 5, 4, 4]
    assert precedent(ctx, remedy_id="late_fee", now=NOW).granted == 1
    # Kept: the window up to a second before the last read (moved on by each read), as counted whole.
    until = NOW + timedelta(seconds=31) - SETTLED
    assert kept_as(ctx) == (until, counted_until(ctx, until))


def kept_as(ctx: services.Context) -> tuple[datetime, int]:
    kept = ctx.precedent_counts.get("refund")
    assert kept is not None
    return kept.until, kept.count


def counted_until(ctx: services.Context, until: datetime) -> int:
    with ctx.sessions() as session:
        return queries.granted_count(session, remedy_id="refund", since=until - PRECEDENT_WINDOW, until=until)


def test_each_read_moves_the_kept_count_on_and_stays_exact_as_grants_stream_in(ctx: services.Context) -> None:
    for days in (2, 15, 29):
        grant(ctx, NOW - timedelta(days=days), 10)
    kept_at = []
    for step in range(12):
        now = NOW + timedelta(milliseconds=700 * step)
        grant(ctx, now - timedelta(milliseconds=300), 20 + step)  # committed before the read
        assert precedent(ctx, remedy_id="refund", now=now) == counted_whole(ctx, now)
        until, count = kept_as(ctx)
        kept_at.append(until)
        assert (until, count) == (max(until, now - SETTLED), counted_until(ctx, until))
    # The first read counted afresh up to its minute; every later one moved it on to SETTLED before it.
    assert kept_at[0] == (NOW - SETTLED)
    assert kept_at[1:] == [NOW + timedelta(milliseconds=700 * step) - SETTLED for step in range(1, 12)]


def test_a_grant_committed_more_than_settled_late_waits_for_the_minutes_count(ctx: services.Context) -> None:
    grant(ctx, NOW - timedelta(days=1), 10)
    assert precedent(ctx, remedy_id="refund", now=NOW).granted == 1  # kept up to SETTLED before NOW
    grant(ctx, NOW - timedelta(seconds=5), 30)  # decided 5 s before it was written
    later = NOW + timedelta(seconds=2)
    assert precedent(ctx, remedy_id="refund", now=later).granted == 1
    services.keep_precedent_counts(ctx)  # the minute's job
    assert precedent(ctx, remedy_id="refund", now=later).granted == 2


def test_the_job_counts_afresh_and_a_request_then_counts_only_the_edges(ctx: services.Context) -> None:
    for days in (1, 2, 29):
        grant(ctx, NOW - timedelta(days=days), 10)
    later = NOW + timedelta(minutes=7, seconds=3)
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.advance(minutes=7, seconds=3)
    assert services.keep_precedent_counts(ctx) == len(ctx.policy.remedies)
    assert kept_as(ctx) == (later.replace(second=0), 3)
    grant(ctx, later, 40)
    grant(ctx, NOW - timedelta(days=2), 60)  # decided long ago, committed late: left out until counted again
    assert precedent(ctx, remedy_id="refund", now=later).granted == 4
    # Days on, counted afresh: the late one with them, and the oldest gone from the window.
    assert precedent(ctx, remedy_id="refund", now=later + timedelta(days=2)).granted == 4
    assert precedent(ctx, remedy_id="refund", now=later + timedelta(days=2)) == counted_whole(
        ctx, later + timedelta(days=2)
    )


def whole_counts(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """Records the moment of each whole count of a window."""
    counted: list[datetime] = []
    count = queries.granted_count

    def counting(session: Session, *, remedy_id: str, since: datetime, until: datetime) -> int:
        counted.append(until)
        return count(session, remedy_id=remedy_id, since=since, until=until)

    monkeypatch.setattr(queries, "granted_count", counting)
    return counted


def test_with_the_job_stopped_requests_count_whole_every_kept_at_most(
    ctx: services.Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant(ctx, NOW - timedelta(days=3), 10)
    counted = whole_counts(monkeypatch)
    # A request every 30 s for 25 minutes, the minute's job not running: each moves the count on,
    # and yet it is counted whole again once KEPT_AT_MOST has passed since it last was.
    for step in range(50):
        now = NOW + timedelta(seconds=30 * step)
        grant(ctx, now - timedelta(seconds=10), 20)
        assert precedent(ctx, remedy_id="refund", now=now) == counted_whole(ctx, now)
    # Whole at the first request, then at the first request more than KEPT_AT_MOST later.
    every = KEPT_AT_MOST + timedelta(seconds=30)
    expected = [(NOW + every * k).replace(second=0, microsecond=0) for k in range(3)]
    assert counted == expected


def test_a_whole_count_kept_meanwhile_stands_over_a_request_that_read_before_it(
    ctx: services.Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant(ctx, NOW - timedelta(days=3), 10)
    assert precedent(ctx, remedy_id="refund", now=NOW).granted == 1
    grant(ctx, NOW - timedelta(seconds=40), 30)  # committed late: left out of the count kept
    later = NOW + timedelta(seconds=40)
    edges = queries.granted_since_kept

    def job_runs_meanwhile(session: Session, **kwargs: Any) -> queries.SinceKept:
        found = edges(session, **kwargs)
        services.keep_precedent_counts(ctx)  # another thread, between this request's read and its move
        return found

    monkeypatch.setattr(queries, "granted_since_kept", job_runs_meanwhile)
    assert precedent(ctx, remedy_id="refund", now=later).granted == 1  # as it read
    monkeypatch.undo()
    # The job's count, with the late grant, was not overwritten by the request's older one.
    assert kept_as(ctx) == (NOW.replace(second=0), 2)
    assert precedent(ctx, remedy_id="refund", now=later).granted == 2


def test_a_count_moved_on_past_a_requests_time_is_used_not_counted_whole(
    ctx: services.Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant(ctx, NOW - timedelta(days=3), 10)
    grant(ctx, NOW - timedelta(seconds=5), 20)
    assert precedent(ctx, remedy_id="refund", now=NOW + timedelta(seconds=1)).granted == 2
    counted = whole_counts(monkeypatch)
    # A request whose batch began before the one that moved the count on, by more than SETTLED.
    earlier = NOW - SETTLED - timedelta(milliseconds=500)
    assert precedent(ctx, remedy_id="refund", now=earlier) == counted_whole(ctx, earlier)
    assert counted == []
    assert kept_as(ctx) == (NOW + timedelta(seconds=1) - SETTLED, 2)
