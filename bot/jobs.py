"""Scheduled jobs: thin, each reads "now" from the injected clock through the services."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot import services
from bot.core.timing import parse_clock
from bot.services import retention
from bot.slack import views

log = logging.getLogger("leeway.jobs")


def requests_due(ctx: services.Context) -> tuple[int, int]:
    """Expire what is past its time, then offer the rest to the next person; apply or forget the
    reactions kept for requests not yet posted (see `services.early_reactions_due`). Safe to run
    on every instance at once: each due request is claimed with a conditional update, each kept
    reaction taken with a DELETE."""
    expired = services.expire_due(ctx)
    rerouted = services.reroute_due(ctx)
    if expired or rerouted:
        log.info("expired %d request(s), re-routed %d", expired, rerouted)
    applied, forgotten = services.early_reactions_due(ctx)
    if applied or forgotten:
        log.info("applied early reactions to %d request(s), forgot %d that matched none", applied, forgotten)
    return expired, rerouted


def precedent_counts(ctx: services.Context) -> int:
    """Count each remedy's grants of the last month afresh, up to this minute, for the
    precedent every request carries (see `services.encouragement`)."""
    return services.keep_precedent_counts(ctx)


# How often each instance looks for someone to welcome or nudge (and once at start).
PEOPLE_CHECK_EVERY_MINUTES = 5


def people_due(ctx: services.Context) -> tuple[int, int]:
    """Welcome who is new to the roster, and nudge who hasn't used their authority lately;
    both only inside working hours. Safe on every instance at once: each is claimed with a
    conditional update."""
    welcomed = services.welcome_due(ctx)
    nudged = services.nudges_due(ctx)
    if welcomed or nudged:
        log.info("welcomed %d new person(s), nudged %d agent(s)", welcomed, nudged)
    return welcomed, nudged


def usage_rollup(ctx: services.Context) -> int:
    """Roll up the usage of every day that ended an hour or more ago (see `services.usage`):
    at start, which catches up on all history the first time, and then hourly. Safe on every
    instance at once: each day is claimed with a conditional update of the watermark."""
    rolled = services.roll_up_usage(ctx)
    if rolled:
        log.info("rolled up the usage of %d day(s)", rolled)
    return rolled


USAGE_ROLLUP_EVERY_HOURS = 1

# How often each instance reads the evidence again for the suggestions leads' Homes show.
READY_TO_MOVE_EVERY_MINUTES = 5


def ready_to_move(ctx: services.Context) -> int:
    """The limits the evidence says are ready to move, for leads' Homes (see `services.limits`)."""
    return services.refresh_ready_to_move(ctx)


# Each run forgets up to this many small batches, pausing between them so that writers waiting
# for SQLite's lock (acks among them; another process's wait in steps of up to 100 ms) take
# their turn: a year's backlog of a million proposals clears within hours, a day's in a batch.
FORGET_EVERY_SECONDS = 30
FORGET_BATCHES_PER_RUN = 20
FORGET_PAUSE_SECONDS = 0.2


def forget_delivered(ctx: services.Context, keep: timedelta, pause: Callable[[float], object] = time.sleep) -> int:
    """Forget the messages delivered longer ago than `keep`, a batch at a time, up to
    FORGET_BATCHES_PER_RUN of them. Safe on every instance at once (see
    `services.forget_delivered`)."""
    forgotten = 0
    for batch in range(FORGET_BATCHES_PER_RUN):
        if batch:
            pause(FORGET_PAUSE_SECONDS)
        done = services.forget_delivered(ctx, keep=keep)
        forgotten += done
        if done < retention.FORGET_BATCH:
            break
    if forgotten:
        log.debug("forgot %d message(s) delivered more than %d days ago", forgotten, keep.days)
    return forgotten


# A digest missed while Leeway was down is still sent if it starts again within this.
WEEKLY_CATCH_UP = timedelta(days=1)
WEEKLY_CHECK_EVERY_MINUTES = 5
# After a start, the catch-up waits this long (and off the 30-second jobs' beat): the digest is
# read after the start's own work (the roll-up, the evidence, welcomes), not beside it.
WEEKLY_CATCH_UP_AFTER_START = timedelta(seconds=45)
# ...and up to this much more, at random, on each worker or instance started together.
WEEKLY_CATCH_UP_SPREAD = timedelta(seconds=20)


def last_weekly_at(ctx: services.Context, now: datetime) -> datetime:
    """The most recent scheduled digest time at or before `now`."""
    # The first fire strictly after a week ago (cron resolution is a second) is the latest one.
    fire: datetime | None = weekly_trigger(ctx).get_next_fire_time(None, now - timedelta(days=7, seconds=-1))
    assert fire is not None  # a weekly trigger fires in every 7-day window
    return fire if fire <= now else fire - timedelta(days=7)


def weekly(ctx: services.Context) -> int:
    """The weekly digest to each lead, and the team's celebration in kudos, for the week that
    ended at the scheduled time. Runs on its schedule and on a short interval, so a restart
    across the scheduled time loses nothing; the outbox's dedupe keys make it once per week,
    however many instances run it."""
    now = ctx.clock()
    fired_at = last_weekly_at(ctx, now)
    week = fired_at.astimezone(ctx.policy.tz).strftime("%G-W%V")
    if now - fired_at > WEEKLY_CATCH_UP or services.weekly_sent(ctx, week=week):
        return 0
    # A fresh install started within a day of the digest's time has no week to tell of: its
    # first digest is the next one, not an empty one the moment it starts.
    if not services.running_before(ctx, at=fired_at):
        return 0
    start = fired_at - timedelta(days=7)
    report = services.usage_between(ctx, start=start, end=fired_at)
    nudged = views.nudged_line(services.nudged_between(ctx, start=start, end=fired_at))
    text = views.digest_text(report, footer=[nudged] if nudged else [])
    ready = services.suggestions(ctx)  # limits the evidence says are ready to move
    return services.send_weekly(
        ctx,
        week=week,
        digests=dict.fromkeys(ctx.roster().leads, text),
        celebration=views.celebration_text(report),
        digest_blocks=views.digest_blocks(text, ready, ctx.policy) if ready else None,
    )


def weekly_trigger(ctx: services.Context) -> CronTrigger:
    opens = parse_clock(ctx.policy.digest.at)
    return CronTrigger(day_of_week=ctx.policy.digest.day, hour=opens.hour, minute=opens.minute, timezone=ctx.policy.tz)
