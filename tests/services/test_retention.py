"""Messages delivered long ago are forgotten, a small batch at a time, on any number of
instances; nothing still owed, nothing of a request still pending, and never the record that
keeps the weekly digest to once a week."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from bot import jobs, services
from bot.core.authority import Roster
from bot.core.policy import Policy
from bot.core.vocabulary import OutboxKind, OutboxStatus, Welcome
from bot.policy_file import parse_policy
from bot.services import retention
from bot.settings import OUTBOX_RETENTION_MIN_DAYS, SettingsError, load_settings
from storage import queries
from storage.db import make_engine, make_sessions
from storage.models import OutboxMessage
from tests.policies import TEAM_POLICY, team_policy
from tests.storage.test_storage import make_proposal
from tests.support import FakeClock, wipe

POLICY = team_policy()  # the weekly digest on Mondays at 09:00 UTC
ROSTER = Roster(agents=("U0ANA", "U0BEN"), leads=("U0LEE",), bot_user="U0BOT")
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
KEEP = timedelta(days=30)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY)


@pytest.fixture
def ctx(engine: Engine, clock: FakeClock) -> Iterator[services.Context]:
    wipe(engine)
    yield context(engine, clock)
    wipe(engine)


def context(engine: Engine, clock: FakeClock, policy: Policy = POLICY) -> services.Context:
    return services.Context(base_policy=policy, roster=lambda: ROSTER, sessions=make_sessions(engine), clock=clock)


def message(ctx: services.Context, *, status: OutboxStatus, days_ago: float, proposal_status: str | None = None) -> int:
    """A message last tried `days_ago`, in `status`, of a proposal in `proposal_status` if any."""
    at = ctx.clock() - timedelta(days=days_ago)
    with ctx.sessions.begin() as session:
        proposal_id = None
        if proposal_status is not None:
            proposal_id = make_proposal(session, status=proposal_status, created_at=at).id
        queries.enqueue(session, kind=OutboxKind.NOTICE, channel="U0ANA", at=at, proposal_id=proposal_id)
        latest = session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)).one()
        session.execute(update(OutboxMessage).where(OutboxMessage.id == latest).values(status=status))
    return latest


def kept(engine: Engine) -> set[int]:
    with make_sessions(engine)() as session:
        return set(session.scalars(select(OutboxMessage.id)))


def test_only_what_was_delivered_long_ago_is_forgotten(ctx: services.Context, engine: Engine) -> None:
    old = 31
    gone = {
        message(ctx, status=OutboxStatus.SENT, days_ago=old),
        message(ctx, status=OutboxStatus.FAILED, days_ago=old),  # given up on
        message(ctx, status=OutboxStatus.SENT, days_ago=old, proposal_status="granted"),
        message(ctx, status=OutboxStatus.SENT, days_ago=old, proposal_status="expired"),
    }
    stay = {
        message(ctx, status=OutboxStatus.PENDING, days_ago=old),  # still owed
        message(ctx, status=OutboxStatus.SENDING, days_ago=old),  # a sender holds it
        message(ctx, status=OutboxStatus.SENT, days_ago=29),  # not yet as old as that
        message(ctx, status=OutboxStatus.SENT, days_ago=old, proposal_status="pending"),  # its request still waits
    }
    assert services.forget_delivered(ctx, keep=KEEP) == len(gone)
    assert kept(engine) == stay
    assert services.forget_delivered(ctx, keep=KEEP) == 0


def test_a_backlog_goes_a_small_batch_at_a_time(
    ctx: services.Context, engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "FORGET_BATCH", 2)
    for i in range(5):
        message(ctx, status=OutboxStatus.SENT, days_ago=40 + i)
    recent = message(ctx, status=OutboxStatus.SENT, days_ago=1)
    assert [services.forget_delivered(ctx, keep=KEEP) for _ in range(4)] == [2, 2, 1, 0]
    assert kept(engine) == {recent}
    clock.advance(days=30)  # time passes: what was recent is old now
    assert services.forget_delivered(ctx, keep=KEEP) == 1


def test_a_run_of_the_job_pauses_between_batches_and_stops_at_its_bound(
    ctx: services.Context, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "FORGET_BATCH", 2)
    monkeypatch.setattr(jobs, "FORGET_BATCHES_PER_RUN", 3)
    for i in range(9):
        message(ctx, status=OutboxStatus.SENT, days_ago=40 + i)
    pauses: list[float] = []
    assert jobs.forget_delivered(ctx, KEEP, pause=pauses.append) == 6  # three batches, the bound
    assert pauses == [jobs.FORGET_PAUSE_SECONDS] * 2  # between batches, where other writers go
    pauses.clear()
    assert jobs.forget_delivered(ctx, KEEP, pause=pauses.append) == 3  # a short batch: all done
    assert pauses == [jobs.FORGET_PAUSE_SECONDS]
    assert kept(engine) == set()


def test_two_instances_forget_each_message_once(
    ctx: services.Context, engine: Engine, database_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "FORGET_BATCH", 3)
    for i in range(30):
        message(ctx, status=OutboxStatus.SENT, days_ago=40 + i)
    other_engine = make_engine(database_url)  # another instance: its own connections
    other = context(other_engine, clock)
    forgotten = [0, 0]
    start = threading.Barrier(2)

    def instance(index: int, its: services.Context) -> None:
        start.wait()
        while done := services.forget_delivered(its, keep=KEEP):
            forgotten[index] += done

    threads = [threading.Thread(target=instance, args=(i, c)) for i, c in enumerate((ctx, other))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other_engine.dispose()
    assert sum(forgotten) == 30
    assert kept(engine) == set()


def test_the_weekly_digest_stays_once_a_week_at_the_shortest_retention(
    ctx: services.Context, engine: Engine, clock: FakeClock
) -> None:
    with ctx.sessions.begin() as session:  # the team was on Leeway last week
        queries.add_people(session, users=["U0ANA"], at=MONDAY - timedelta(days=5), welcome=Welcome.SENT)
    assert jobs.weekly(ctx) == 2  # one lead's digest, and the celebration
    with ctx.sessions.begin() as session:
        session.execute(update(OutboxMessage).values(status=OutboxStatus.SENT))
    shortest = timedelta(days=OUTBOX_RETENTION_MIN_DAYS)
    # Caught up on after a restart within the day, or moved to Friday in the policy: the same
    # week, and its digest has gone out.
    friday = context(engine, clock, policy=parse_policy(TEAM_POLICY + 'digest: {day: fri, at: "09:00"}\n'))
    for step, its in ((timedelta(hours=23), ctx), (timedelta(days=3, hours=1), friday)):
        clock.advance(seconds=step.total_seconds())
        services.forget_delivered(its, keep=shortest)
        assert jobs.last_weekly_at(its, clock()).strftime("%G-W%V") == MONDAY.strftime("%G-W%V")
        assert jobs.weekly(its) == 0
    assert len(kept(engine)) == 2
    clock.advance(days=OUTBOX_RETENTION_MIN_DAYS)  # the week long over: its record may go
    assert services.forget_delivered(ctx, keep=shortest) == 2


@pytest.mark.parametrize(("value", "days"), [(None, 30), ("0", 0), ("off", 0), ("OFF", 0), ("8", 8), ("365", 365)])
def test_outbox_retention_days(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str | None, days: int) -> None:
    environment(monkeypatch, tmp_path)
    if value is not None:
        monkeypatch.setenv("OUTBOX_RETENTION_DAYS", value)
    assert load_settings().outbox_retention_days == days


@pytest.mark.parametrize("value", ["1", "7", "-1", "a month"])
def test_outbox_retention_too_short_says_what_to_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    environment(monkeypatch, tmp_path)
    monkeypatch.setenv("OUTBOX_RETENTION_DAYS", value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value).startswith("OUTBOX_RETENTION_DAYS is invalid (")
    assert "at least 8" in str(refused.value)
    assert str(refused.value).endswith("or 0 or off to keep every message.")


def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env file
    monkeypatch.delenv("OUTBOX_RETENTION_DAYS", raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "x" * 16)


def test_a_fresh_install_sends_no_digest_for_the_week_before_it_started(
    ctx: services.Context, engine: Engine, clock: FakeClock
) -> None:
    """Started for the first time within a day of the digest's time: there is no week to tell
    of, so its first digest is the next week's, not an empty one at once."""
    clock.advance(hours=2)
    with ctx.sessions.begin() as session:  # what the first start records: the roster, seen now
        queries.add_people(session, users=["U0ANA", "U0LEE"], at=clock(), welcome=Welcome.OWED)
    assert jobs.weekly(ctx) == 0
    assert kept(engine) == set()
    clock.advance(days=7)
    assert jobs.weekly(ctx) == 2  # a week later: its first digest, and the celebration
