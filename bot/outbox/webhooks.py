"""The way out to company systems: each webhook endpoint has a lane of its own, a thread that
claims that endpoint's due events, signs each and POSTs it with httpx, and records what became of
it. Nothing here is paced like Slack, and nothing is shared with the Slack sender: a slow or
failing endpoint holds up its own lane only, never Slack posts or another endpoint.

Claims are conditional updates with a lease, renewed just before each POST, as for Slack posts:
several instances deliver each event once in the normal case. A sender that dies mid-POST leaves
its claim to lapse and the event goes again (at least once: receivers de-duplicate on
Leeway-Event-Id). The time signed is the injected clock's, as every other time in Leeway."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.core.policy import Webhook
from bot.core.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, body_of, signature
from bot.metrics import Metrics
from bot.outbox.failures import Fail, Retry
from bot.outbox.pacing import PASS_GAP, seconds_until
from bot.outbox.webhook_retries import after_failure
from storage import db, queries
from storage.models import OutboxMessage
from storage.queries import webhooks as webhook_queries

log = logging.getLogger("leeway.webhooks")

# Short: a slow endpoint costs its own lane this long per try, and the try is retried later.
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# Outlives a batch's tries at the timeout; renewed before each POST all the same.
LEASE = timedelta(seconds=120)
BATCH = 10
USER_AGENT = "Leeway-Webhooks/1"


@dataclass
class Lane:
    """One endpoint's worker: its own thread, HTTP client and wake-up."""

    webhook: Webhook
    secret: str
    client: httpx.Client
    wake: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    next_attempt: datetime | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)  # one pass at a time


class WebhookSender:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        webhooks: tuple[Webhook, ...],
        secrets: dict[str, str],
        clock: Clock,
        metrics: Metrics | None = None,
        lease: timedelta = LEASE,
        batch: int = BATCH,
        idle_wait: float = 1.0,
        timeout: httpx.Timeout = TIMEOUT,
        transport: Callable[[], httpx.BaseTransport | None] = lambda: None,
    ) -> None:
        """`secrets[webhook.key]` is each endpoint's signing secret (bot.policy_file.webhook_secrets)."""
        self.sessions = sessions
        self.clock = clock
        self.metrics = metrics or Metrics()
        self.lease = lease
        self.batch = batch
        self.idle_wait = idle_wait
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self.lanes = {
            webhook.key: Lane(
                webhook=webhook,
                secret=secrets[webhook.key],
                client=httpx.Client(
                    timeout=timeout,
                    follow_redirects=False,  # a redirect would resend the signed body somewhere else
                    headers={"User-Agent": USER_AGENT},
                    transport=transport(),
                ),
            )
            for webhook in webhooks
        }

    # --- running ---------------------------------------------------------------------------

    def wake(self) -> None:
        for lane in self.lanes.values():
            lane.wake.set()

    def start(self) -> None:
        self._stop.clear()
        for lane in self.lanes.values():
            if lane.thread is None:
                lane.thread = threading.Thread(
                    target=self._run, args=(lane,), name=f"leeway-webhook-{lane.webhook.host}", daemon=True
                )
                lane.thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.wake()
        for lane in self.lanes.values():
            if lane.thread is not None:
                lane.thread.join(timeout)
                lane.thread = None

    def close(self) -> None:
        self.stop()
        for lane in self.lanes.values():
            lane.client.close()

    def _run(self, lane: Lane) -> None:
        while not self._stop.is_set():
            lane.wake.clear()
            try:
                handled = self.deliver_due(lane.webhook.key)
            except Exception:
                log.exception("webhook pass for %s failed; retrying shortly", lane.webhook.host)
                handled, lane.next_attempt = 0, None
            if handled >= self.batch:
                continue
            self._stop.wait(PASS_GAP)  # let the wakes of a burst of decisions share one pass
            lane.wake.wait(min(self.idle_wait, seconds_until(lane.next_attempt, self.clock())))

    # --- one pass ----------------------------------------------------------------------------

    def deliver_due(self, endpoint: str | None = None) -> int:
        """Claim what is due for one endpoint (by key; None: each in turn) and try each once.
        Returns how many were tried."""
        if endpoint is None:
            return sum(self.deliver_due(key) for key in self.lanes)
        lane = self.lanes[endpoint]
        with lane.lock:
            now = self.clock()
            with self.sessions.begin() as session:
                claimed = webhook_queries.claim_webhooks(
                    session,
                    endpoint=endpoint,
                    now=now,
                    lease_until=now + self.lease,
                    token=self.token,
                    limit=self.batch,
                )
            for message in claimed:
                try:
                    self._deliver(lane, message)
                except Exception:  # one event's trouble must not hold up the rest of the lane
                    log.exception("could not deliver webhook #%s; it goes again when its claim lapses", message.id)
            with db.reading(self.sessions) as session:
                lane.next_attempt = webhook_queries.next_webhook_attempt(session, endpoint=endpoint, after=self.clock())
            return len(claimed)

    def _deliver(self, lane: Lane, message: OutboxMessage) -> None:
        webhook = lane.webhook
        document = event_of(message)
        body = body_of(document)
        with self.sessions.begin() as session:
            if not queries.renew_claim(
                session, message_id=message.id, token=self.token, lease_until=self.clock() + self.lease
            ):
                return  # another sender took it after our claim lapsed; it sends it
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(lane.secret, body, at=int(self.clock().timestamp())),
            EVENT_ID_HEADER: str(document["id"]),
        }
        status: int | None = None
        retry_after: str | None = None
        try:
            response = lane.client.post(webhook.url, content=body, headers=headers)
            status, retry_after = response.status_code, response.headers.get("Retry-After")
            error, label = f"HTTP {status}", str(status)
        except httpx.TimeoutException as problem:
            error, label = f"timed out ({type(problem).__name__})", "timeout"
        except httpx.HTTPError as problem:  # refused, reset, unresolvable: no answer at all
            error, label = f"{type(problem).__name__}: {problem}", "network"
        self.metrics.webhook_delivery(webhook.host, label)
        if status is not None and 200 <= status < 300:
            with self.sessions.begin() as session:
                queries.mark_sent(
                    session, message_id=message.id, token=self.token, at=self.clock(), slack_channel=None, slack_ts=None
                )
            log.info("delivered %s %s to %s (%s)", document["type"], document["id"], webhook.host, status)
            return
        outcome = after_failure(
            status=status,
            error=error,
            retry_after_header=retry_after,
            attempts=message.attempts,
            created=message.created_at,
            now=self.clock(),
            secret_env=webhook.secret_env,
            url=webhook.shown,
        )
        self._settle(lane, message, document, outcome)

    def _settle(self, lane: Lane, message: OutboxMessage, document: dict[str, Any], outcome: Retry | Fail) -> None:
        host = lane.webhook.host
        with self.sessions.begin() as session:
            if isinstance(outcome, Fail):
                queries.mark_failed(
                    session, message_id=message.id, token=self.token, error=f"{outcome.code}: {outcome.fix}"
                )
            else:
                queries.reschedule(
                    session,
                    message_id=message.id,
                    token=self.token,
                    at=self.clock() + outcome.delay,
                    error=outcome.error,
                )
        if isinstance(outcome, Fail):
            log.error(
                "webhook %s %s to %s failed, and is not tried again: %s",
                document["type"],
                document["id"],
                host,
                outcome.fix,
            )
        else:
            log.warning(
                "webhook %s %s to %s: %s; trying again in %s",
                document["type"],
                document["id"],
                host,
                outcome.error,
                outcome.delay,
            )


def event_of(message: OutboxMessage) -> dict[str, Any]:
    """The event document an outbox row carries. One written in bulk with its new proposal was
    owed before the proposal had an id: the row's proposal gives it, the same on every try."""
    document: dict[str, Any] = dict(message.detail["event"])
    proposal = document.get("data", {}).get("proposal")
    if isinstance(proposal, dict) and proposal.get("id") is None and message.proposal_id is not None:
        document["data"] = {**document["data"], "proposal": {**proposal, "id": message.proposal_id}}
    return document


def webhook_backlog(
    sessions: sessionmaker[Session], webhooks: tuple[Webhook, ...], now: datetime
) -> dict[str, tuple[int, float]]:
    """Per endpoint (by host): how many events are owed, and the age in seconds of the oldest."""
    with db.reading(sessions) as session:
        owed = webhook_queries.webhook_backlog(session)
    hosts = {webhook.key: webhook.host for webhook in webhooks}
    report: dict[str, tuple[int, float]] = {webhook.host: (0, 0.0) for webhook in webhooks}
    for key, (count, oldest) in owed.items():
        host = hosts.get(key, key)  # an endpoint since removed from the policy: named by its key
        before, age = report.get(host, (0, 0.0))
        report[host] = (before + count, max(age, (now - oldest).total_seconds()))
    return report
