"""Scheduled jobs: thin, each reads "now" from the injected clock through the services."""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger

from bot import services
from bot.core.timing import parse_clock
from bot.slack import views

log = logging.getLogger("leeway.jobs")

DUE_EVERY_SECONDS = 30


def requests_due(ctx: services.Context) -> tuple[int, int]:
    """Expire what is past its time, then offer the rest to the next person. Safe to run on
    every instance at once: each due request is claimed with a conditional update."""
    expired = services.expire_due(ctx)
    rerouted = services.reroute_due(ctx)
    if expired or rerouted:
        log.info("expired %d request(s), re-routed %d", expired, rerouted)
    return expired, rerouted


def weekly(ctx: services.Context) -> int:
    """The weekly digest to each lead, and the team's celebration in kudos. Safe on every
    instance: each is queued once per ISO week."""
    now = ctx.clock()
    report = services.usage_between(ctx, start=now - timedelta(days=7), end=now)
    week = now.astimezone(ctx.policy.tz).strftime("%G-W%V")
    digests = {lead: views.digest_text(report) for lead in ctx.roster().leads}
    return services.send_weekly(ctx, week=week, digests=digests, celebration=views.celebration_text(report))


def weekly_trigger(ctx: services.Context) -> CronTrigger:
    opens = parse_clock(ctx.policy.digest.at)
    return CronTrigger(day_of_week=ctx.policy.digest.day, hour=opens.hour, minute=opens.minute,
                       timezone=ctx.policy.tz)
