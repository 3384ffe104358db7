"""Puts Leeway together from settings: policy, database, Slack client, sender, app, schedule."""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any
from urllib.parse import urlsplit

from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from sqlalchemy import Engine, text

from bot import jobs, services
from bot.api import ApiSettings, create_api
from bot.background import Apart, Background
from bot.clock import Clock, system_clock
from bot.core.policy import Policy
from bot.metrics import Metrics, MetricsServer
from bot.outbox import Sender, backlog
from bot.outbox.webhooks import WebhookSender, webhook_backlog
from bot.policy_file import PolicyError, load_policy, webhook_secrets
from bot.roster import RosterDirectory, RosterError
from bot.services.encouragement import KEEP_COUNTS_EVERY
from bot.settings import Settings
from bot.slack import reports_process
from bot.slack.app import build_app
from bot.slack.installation import Installation
from bot.web import LeewayASGI
from storage import migrate
from storage.db import make_engine, make_sessions

log = logging.getLogger("leeway")

ROSTER_REFRESH_MINUTES = 10
# The Web API calls Leeway makes that only read: asked twice, Slack answers the same.
READS = frozenset({"auth.test", "usergroups.users.list"})


class StartupError(Exception):
    """One line that says what to fix."""


@dataclass
class Leeway:
    settings: Settings
    policy: Policy
    engine: Engine
    ctx: services.Context
    sender: Sender
    roster: RosterDirectory
    bolt: App
    scheduler: BackgroundScheduler
    webhooks: WebhookSender
    reports: Background
    metrics_server: MetricsServer | None = None  # with METRICS_PORT, from serve_metrics() to close()

    def start_background(self) -> None:
        """The senders and the schedule, until `close()`: every process that serves Slack runs its own."""
        self.sender.start()
        self.webhooks.start()
        self.scheduler.start()
        self.reports.start()

    def serve_metrics_port(self) -> None:
        """METRICS_PORT, if set: one process serves it, for all the workers on this machine."""
        if self.settings.metrics_port is not None:
            self.serve_metrics(host=self.settings.metrics_host, port=self.settings.metrics_port)

    def serve_metrics(self, *, host: str, port: int) -> MetricsServer:
        """The metrics on their own port (0: any free one), until `close()`."""
        try:
            self.metrics_server = MetricsServer(self.ctx.metrics, host=host, port=port).start()
        except OSError as error:
            raise StartupError(f"Can't serve metrics on {host}:{port} (METRICS_HOST, METRICS_PORT): {error}") from None
        return self.metrics_server

    def close(self) -> None:
        if self.metrics_server is not None:
            self.metrics_server.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.sender.stop()
        self.webhooks.close()
        self.reports.close()
        self.engine.dispose()

    def health(self) -> tuple[int, dict[str, Any]]:
        report: dict[str, Any] = {"policy": "loaded", "remedies": len(self.policy.remedies)}
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            current = migrate.is_current(self.engine)
            report["database"] = "migrated" if current else "not migrated"
            pending, oldest = backlog(self.ctx.sessions, self.ctx.clock())
            limit = self.settings.outbox_max_age_seconds
            report["outbox"] = {"pending": pending, "oldest_seconds": round(oldest, 1), "limit_seconds": limit}
            # Shown, not judged: an endpoint that is down is its owners' to fix, and Leeway is well.
            report["webhooks"] = {
                host: {"pending": count, "oldest_seconds": round(age, 1)}
                for host, (count, age) in webhook_backlog(
                    self.ctx.sessions, self.policy.webhooks, self.ctx.clock()
                ).items()
            }
        except Exception as error:
            report["database"] = f"unavailable: {type(error).__name__}"
            return 503, {"status": "unavailable", **report}
        if not current:
            return 503, {"status": "unavailable", **report}
        if oldest > limit:
            # Slack has been refusing or failing for too long: a person should look.
            return 503, {"status": "outbox backlog", **report}
        return 200, {"status": "ok", **report}

    def asgi(self) -> LeewayASGI:
        token = self.settings.metrics_token
        limits = ApiSettings(
            rate_limit_per_minute=self.settings.api_rate_limit_per_minute,
            max_body_bytes=self.settings.api_max_body_bytes,
        )
        return LeewayASGI(
            self.bolt,
            self.health,
            self.settings.slack_signing_secret.get_secret_value(),
            self.ctx.metrics,
            metrics_token=token.get_secret_value() if token is not None else None,
            api=create_api(self.ctx, limits),
            api_max_body_bytes=limits.max_body_bytes,
        )


def slack_client(settings: Settings) -> WebClient:
    # 429s and 5xx are not retried inside the call: the outbox reschedules them without holding
    # up other channels. Nor is a dropped connection, but on a read: Slack may already have a
    # post whose answer was lost, and only the outbox knows when it may be sent again.
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[ReadRetryHandler(max_retry_count=2)],
    )


def is_read(url: str) -> bool:
    """Whether a Web API call, by its URL, only reads (see READS)."""
    return urlsplit(url).path.rsplit("/", 1)[-1] in READS


class ReadRetryHandler(ConnectionErrorRetryHandler):
    """slack_sdk's retry on a dropped connection, for reads only."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return is_read(request.url) and super()._can_retry(state=state, request=request, response=response, error=error)


def build(settings: Settings, *, clock: Clock = system_clock, apply_migrations: bool = True) -> Leeway:

    try:
        policy = load_policy(settings.leeway_policy)
        secrets = webhook_secrets(policy, os.environ, source=str(settings.leeway_policy))
    except PolicyError as error:
        raise StartupError(str(error)) from None
    try:
        engine = make_engine(settings.database_url)
    except Exception as error:
        raise StartupError(f"Can't use DATABASE_URL ({type(error).__name__}: {error}).") from None
    try:
        return _assemble(settings, policy, secrets, engine, clock, apply_migrations)
    except BaseException:
        engine.dispose()  # a failed start leaves no connections behind
        raise


def _assemble(
    settings: Settings, policy: Policy, secrets: dict[str, str], engine: Engine, clock: Clock, apply_migrations: bool
) -> Leeway:

    try:
        if apply_migrations:
            migrate.upgrade(engine)
        elif not migrate.is_current(engine):
            raise StartupError("The database is not migrated: run `python -m bot migrate`.")
    except StartupError:
        raise
    except Exception as error:
        raise StartupError(
            f"Can't use the database at DATABASE_URL ({type(error).__name__}: {str(error).splitlines()[0]})"
        ) from None
    sessions = make_sessions(engine)
    client = slack_client(settings)
    try:
        identity = client.auth_test()
    except SlackApiError as error:
        raise StartupError(
            f"Slack rejected SLACK_BOT_TOKEN ({error.response.get('error')}): copy the Bot User "
            "OAuth Token from the app's OAuth & Permissions page."
        ) from None
    except Exception as error:
        raise StartupError(f"Can't reach Slack at {settings.slack_api_url} ({type(error).__name__}).") from None
    installation = Installation(
        team_id=str(identity.get("team_id") or ""),
        bot_user_id=str(identity.get("user_id") or ""),
        bot_id=identity.get("bot_id"),
        bot_token=settings.slack_bot_token.get_secret_value(),
        app_id=settings.slack_app_id,
    )
    roster = RosterDirectory(policy, client, bot_user=installation.bot_user_id or None)
    try:
        roster.refresh(strict=True)
    except RosterError as error:
        raise StartupError(str(error)) from None
    metrics = Metrics()
    metrics.watch_backlog(lambda: backlog(sessions, clock()))
    sender = Sender(
        sessions=sessions,
        client=client,
        policy=lambda: ctx.policy,
        clock=clock,
        # Both called only once the sender runs, by which time `ctx` (built just below) exists.
        home_of=lambda user: services.home(ctx, user=user),
        lease=timedelta(seconds=settings.outbox_lease_seconds),
        metrics=metrics,
        request_posted=lambda channel, ts: services.reactions_to_request(ctx, channel=channel, ts=ts),
        policy_for=lambda person: ctx.policy_for(person),
        decisions=lambda since, until, limit: services.decisions_between(ctx, since=since, until=until, limit=limit),
    )
    webhooks = WebhookSender(sessions=sessions, webhooks=policy.webhooks, secrets=secrets, clock=clock, metrics=metrics)
    metrics.watch_webhook_backlog(lambda: webhook_backlog(sessions, policy.webhooks, clock()))

    def wake_senders() -> None:
        """A change committed: what it owes Slack, and any endpoint, may be due now."""
        sender.wake()
        webhooks.wake()

    ctx = services.Context(
        base_policy=policy,
        roster=roster,
        sessions=sessions,
        clock=clock,
        wake_sender=wake_senders,
        metrics=metrics,
        limits_refresh_seconds=settings.limits_refresh_seconds,
    )
    # The usage reports' process reads the same database, with the policy as the file has it.
    reports = Background(Apart(f"{reports_process.__name__}:start", settings.database_url, policy))
    bolt = build_app(
        client=client,
        reports=reports,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        ctx=ctx,
        sender=sender,
        installation=installation,
    )
    scheduler = BackgroundScheduler(timezone=UTC)

    def every(
        job: Callable[..., object],
        job_id: str,
        *args: object,
        at_start: bool = True,
        after_start: timedelta = timedelta(0),
        **interval: float,
    ) -> None:
        """Run `job` on an interval, once at a time (a late run is not made up twice), and at start
        (`after_start` later)."""
        scheduler.add_job(
            job,
            "interval",
            **interval,
            args=list(args),
            id=job_id,
            coalesce=True,
            max_instances=1,
            **({"next_run_time": clock() + after_start} if at_start else {}),
        )

    every(roster.refresh, "roster_refresh", minutes=ROSTER_REFRESH_MINUTES, at_start=False)
    # Deadlines live in the database, so a restart loses none: the first run catches up.
    every(jobs.requests_due, "requests_due", ctx, seconds=settings.schedule_interval_seconds)
    every(jobs.precedent_counts, "precedent_counts", ctx, seconds=KEEP_COUNTS_EVERY.total_seconds())
    # The suggestions leads' Homes show, read from the evidence.
    every(jobs.ready_to_move, "ready_to_move", ctx, minutes=jobs.READY_TO_MOVE_EVERY_MINUTES)
    # Closed days of usage, rolled up for reports: at start (all history the first time), then hourly.
    every(jobs.usage_rollup, "usage_rollup", ctx, hours=jobs.USAGE_ROLLUP_EVERY_HOURS)
    if settings.outbox_retention_days:
        keep = timedelta(days=settings.outbox_retention_days)
        every(jobs.forget_delivered, "forget_delivered", ctx, keep, seconds=jobs.FORGET_EVERY_SECONDS, at_start=False)
    scheduler.add_job(jobs.weekly, jobs.weekly_trigger(ctx), args=[ctx], id="weekly", coalesce=True, max_instances=1)
    # The schedule lives in memory: this catches up on a digest whose time passed while Leeway was down.
    # Once what every start does (the roll-up, the evidence, welcomes) is over, not beside it; and
    # each worker at its own moment, so one reads the digest and the others find it sent.
    spread = random.uniform(0, jobs.WEEKLY_CATCH_UP_SPREAD.total_seconds())
    every(
        jobs.weekly,
        "weekly_catch_up",
        ctx,
        after_start=jobs.WEEKLY_CATCH_UP_AFTER_START + timedelta(seconds=spread),
        minutes=jobs.WEEKLY_CHECK_EVERY_MINUTES,
    )
    # Someone new is welcomed at start, and later within a few minutes (inside working hours).
    every(jobs.people_due, "people_due", ctx, minutes=jobs.PEOPLE_CHECK_EVERY_MINUTES)
    return Leeway(
        settings=settings,
        policy=policy,
        engine=engine,
        ctx=ctx,
        sender=sender,
        roster=roster,
        bolt=bolt,
        scheduler=scheduler,
        webhooks=webhooks,
        reports=reports,
    )
