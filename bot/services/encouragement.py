"""Encouragement: the precedent a request is asked with, one welcome for someone new to the
roster, and a gentle nudge for an agent who hasn't used their authority lately. Nudges are
private: leads only ever learn how many agents were nudged."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.encouragement import (
    MEDIAN_OF_NEWEST,
    PRECEDENT_WINDOW,
    RECENT_EXAMPLE,
    Example,
    Precedent,
    Seen,
    due_for_nudge,
    median,
    pick_example,
)
from bot.core.vocabulary import OutboxKind, Welcome
from bot.services.context import Context, Kept
from bot.services.results import NudgesStopped, Refused
from storage import db, queries

# Enough of the newest grants made alone that one is by someone other than the agent nudged.
EXAMPLES_READ = 20


def precedent(ctx: Context, *, remedy_id: str, now: datetime) -> Precedent:
    """How the team granted this remedy in the PRECEDENT_WINDOW before `now`: how many, and the
    median of the newest MEDIAN_OF_NEWEST of them."""
    return precedents(ctx, remedy_ids=[remedy_id], now=now)[remedy_id]


def precedents(ctx: Context, *, remedy_ids: Collection[str], now: datetime) -> dict[str, Precedent]:
    """`precedent` of each of these remedies, in one read: for the requests of a batch."""
    with db.reading(ctx.sessions) as session:
        return {remedy_id: _lately(session, ctx, remedy_id, now) for remedy_id in dict.fromkeys(remedy_ids)}


# Counting a month's grants walks every one of them: some 50,000 of a busy remedy at a million
# proposals a year, 30 ms on PostgreSQL, and every request waits on it. So each process keeps
# the count up to a moment (`ctx.precedent_counts`), and a request adds what changed at the
# window's edges since: the grants made since that moment, less those that left the window
# meanwhile. Each request then moves the kept count on to SETTLED before its own time, so the
# next walks only what came after: under a thousand grants a second, a minute's worth of them
# was tens of thousands of fresh index entries, some 15 ms a request. A grant decided before
# the kept moment but committed after it was read (more than SETTLED late: a batch held up
# that long) is left out until the job counts each window whole again, every minute
# (`keep_precedent_counts`). SETTLED is a few seconds: each request walks that many seconds of
# grants, a small stretch of the index, and a commit comes later than that only when stalled.
KEEP_COUNTS_EVERY = timedelta(minutes=1)
SETTLED = timedelta(seconds=2)
# Counted whole longer ago than this (the job stopped), or that far ahead (the clock went
# back), a request counts whole itself.
KEPT_AT_MOST = timedelta(minutes=10)


def keep_precedent_counts(ctx: Context) -> int:
    """Count each remedy's precedent window whole, up to the start of this minute, and keep it;
    how many remedies were counted."""
    now = ctx.clock()
    with db.reading(ctx.sessions) as session:
        for remedy in ctx.policy.remedies:
            _count_whole(session, ctx, remedy.id, now)
    return len(ctx.policy.remedies)


def _count_whole(session: Session, ctx: Context, remedy_id: str, now: datetime) -> Kept:
    minute = now.replace(second=0, microsecond=0)
    count = queries.granted_count(session, remedy_id=remedy_id, since=minute - PRECEDENT_WINDOW, until=minute)
    kept = Kept(until=minute, count=count, counted_at=now)
    ctx.precedent_counts.keep(remedy_id, kept)
    return kept


def _lately(session: Session, ctx: Context, remedy_id: str, now: datetime) -> Precedent:
    kept = ctx.precedent_counts.get(remedy_id)
    if kept is None or abs(now - kept.counted_at) > KEPT_AT_MOST:
        kept = _count_whole(session, ctx, remedy_id, now)
    # Another thread may have moved the count on past this request's time (by less than
    # SETTLED, as a rule): the edges then add only what came since, and nothing left.
    settled = max(kept.until, now - SETTLED)
    edges = queries.granted_since_kept(
        session,
        remedy_id=remedy_id,
        kept_until=kept.until,
        window=PRECEDENT_WINDOW,
        now=now,
        settled=settled,
        newest=MEDIAN_OF_NEWEST,
    )
    if settled > kept.until:
        moved = replace(kept, until=settled, count=kept.count + edges.came_settled - edges.left_settled)
        ctx.precedent_counts.move_on(remedy_id, kept, moved)
    return Precedent(granted=kept.count + edges.came - edges.left, median=median(edges.middle))


def _open(ctx: Context, now: datetime) -> bool:
    hours = ctx.policy.hours
    return hours is None or hours.is_open(now)


def welcome_due(ctx: Context) -> int:
    """Record who on the roster Leeway sees for the first time, and welcome each of them once
    ever, privately, inside working hours. With `welcome: off` they are recorded as owed
    none. Safe on every instance at once: each welcome is claimed with a conditional update
    and carries a dedupe key. Returns how many welcomes were queued."""
    now = ctx.clock()
    roster = ctx.roster()
    everyone = [u for u in roster.everyone() if u != roster.bot_user]
    with db.reading(ctx.sessions) as session:
        known = queries.people(session, users=everyone)
    new = [u for u in everyone if u not in known]
    if new:
        with ctx.sessions.begin() as session:
            owed = Welcome.OWED if ctx.policy.welcome else Welcome.NOT_OWED
            queries.add_people(session, users=new, at=now, welcome=owed)
    if not ctx.policy.welcome or not _open(ctx, now):
        return 0
    with db.reading(ctx.sessions) as session:
        waiting = queries.owed_welcome(session, users=everyone)
    queued = 0
    for user in waiting:
        try:
            with ctx.sessions.begin() as session:
                if not queries.claim_welcome(session, user=user, at=now):
                    continue  # another instance welcomed them
                queries.enqueue(
                    session,
                    kind=OutboxKind.WELCOME,
                    channel=user,
                    at=now,
                    detail={"lead": roster.is_lead(user)},
                    dedupe_key=f"{OutboxKind.WELCOME}:{user}",
                )
            queued += 1
        except IntegrityError:  # welcomed before, under a record since lost: once ever all the same
            with ctx.sessions.begin() as session:
                queries.claim_welcome(session, user=user, at=now)
    if queued:
        ctx.wake_sender()
    return queued


def nudges_due(ctx: Context) -> int:
    """Nudge, privately and inside working hours, each agent who has made no proposal of their
    own for `nudge_after`: at most once per that period, with a recent grant a teammate made on
    their own as an example. Safe on every instance at once (a conditional update claims each
    nudge). Returns how many were queued."""
    after = ctx.policy.nudge_after
    now = ctx.clock()
    if after is None or not _open(ctx, now):
        return 0
    roster = ctx.roster()
    with db.reading(ctx.sessions) as session:
        seen = {
            user: Seen(
                first_seen_at=person.first_seen_at,
                last_nudged_at=person.last_nudged_at,
                nudges_off=person.nudges_off_at is not None,
            )
            for user, person in queries.people(session, users=roster.agents).items()
        }
        away = set(queries.away_users(session, now=now))

        def due(agents: Sequence[str], proposed: Collection[str]) -> list[str]:
            return due_for_nudge(
                agents, seen=seen, proposed_since=proposed, away=away, leads=roster.leads, now=now, after=after
            )

        # Only those due but for their proposals are looked up in the proposals.
        candidates = due(roster.agents, ())
        if not candidates:
            return 0
        proposed = queries.proposed_since(session, users=candidates, since=now - after)
        recent = queries.recent_alone_grants(session, since=now - RECENT_EXAMPLE, limit=EXAMPLES_READ)
    queued = 0
    for user in due(candidates, proposed):
        example = pick_example(recent, ctx.policy, for_agent=user)
        with ctx.sessions.begin() as session:
            if not queries.claim_nudge(session, user=user, now=now, after=after):
                continue  # another instance nudged them, or they asked for no more
            queries.add_nudge(session, user=user, at=now, example_proposal_id=example.proposal_id if example else None)
            queries.enqueue(session, kind=OutboxKind.NUDGE, channel=user, at=now, detail=_example_detail(example))
        queued += 1
    if queued:
        ctx.wake_sender()
    return queued


def _example_detail(example: Example | None) -> dict[str, str]:
    """The example's facts, as the nudge shows them (frozen when it was chosen)."""
    if example is None:
        return {}
    return {
        "proposer": example.proposer,
        "remedy_id": example.remedy_id,
        "remedy_label": example.remedy_label,
        "amount": str(example.amount),
        "unit": example.unit,
        "granted_at": example.granted_at.isoformat(),
    }


def stop_nudges(ctx: Context, *, message_id: int, user: str) -> NudgesStopped | Refused:
    """ "No more of these": only the agent the nudge went to (from the database, whatever the
    button says) stops their own nudges."""
    with ctx.sessions.begin() as session:
        if queries.nudge_recipient(session, message_id=message_id) != user:
            return Refused("Only the person this reminder was sent to can stop these.")
        stopped = queries.stop_nudges(session, user=user, at=ctx.clock())
    return NudgesStopped(already=not stopped)


def nudged_between(ctx: Context, *, start: datetime, end: datetime) -> int:
    """How many agents were nudged in the period: what leads see of nudges, and all of it."""
    with db.reading(ctx.sessions) as session:
        return queries.nudged_between(session, start=start, end=end)
