"""The sender loop: claim what is due, renew the claim, send, and record what became of each.

A message is claimed with a conditional update and a lease, so a crash between the grant and the
posts only delays them: the next start (or another instance, once the lease ends) delivers what
is still owed.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.core.policy import Policy
from bot.core.vocabulary import OutboxKind
from bot.metrics import Metrics
from bot.outbox import transport
from bot.outbox.failures import (
    Fail,
    Hold,
    Outcome,
    Retry,
    answer_lost,
    classify,
    deferred,
    dropped,
    export_warning,
    retry_or_give_up,
    warning,
)
from bot.outbox.kinds import POSTS, UNPACED, WARN_PROPOSER
from bot.outbox.pacing import LEASE, POST_INTERVAL, pause
from bot.outbox.rendering import DecisionsOf, Defer, Drop, Reader, no_decisions, render
from storage import db, queries
from storage.models import OutboxMessage

log = logging.getLogger("leeway.outbox")


class Sender:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        client: WebClient,
        policy: Callable[[], Policy],
        clock: Clock,
        home_of: Callable[[str], Any],
        batch: int = 50,
        idle_wait: float = 1.0,
        lease: timedelta = LEASE,
        post_interval: timedelta = POST_INTERVAL,
        metrics: Metrics | None = None,
        request_posted: Callable[[str, str], object] = lambda _channel, _ts: None,
        policy_for: Callable[[str], Policy] | None = None,
        decisions: DecisionsOf = no_decisions,
    ) -> None:
        """`home_of(user)` is the use case's view of a person, which their App Home is rendered
        from; `request_posted(channel, ts)` is told of each request once its ts is recorded;
        `decisions(since, until, limit)` reads the decisions a lead's export holds."""
        self.sessions = sessions
        self.client = client
        self.clock = clock
        self.batch = batch
        self.idle_wait = idle_wait
        self.lease = lease
        self.post_interval = post_interval
        self.metrics = metrics or Metrics()
        self.reader = Reader(sessions, policy, home_of, policy_for=policy_for, decisions=decisions)
        self.request_posted = request_posted
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pass_lock = threading.Lock()
        self._next_slot: datetime | None = None
        self._next_attempt: datetime | None = None
        self.token = uuid.uuid4().hex

    @property
    def next_slot(self) -> datetime | None:
        """As the last pass saw it: when the next channel with posts waiting may post."""
        return self._next_slot

    @property
    def next_attempt(self) -> datetime | None:
        """As the last pass saw it: when the next message not yet due falls due."""
        return self._next_attempt

    # --- running ---------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="leeway-sender", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            started = time.monotonic()
            try:
                handled = self.deliver_due()
            except Exception:
                log.exception("outbox pass failed; retrying shortly")
                handled = 0
                self._next_slot = self._next_attempt = None  # unknown now: wait the usual while
            if handled >= self.batch:
                continue
            gather, longest = pause(
                handled,
                elapsed=time.monotonic() - started,
                now=self.clock(),
                next_slot=self._next_slot,
                next_attempt=self._next_attempt,
                idle_wait=self.idle_wait,
            )
            self._stop.wait(gather)
            self._wake.wait(longest - gather)

    # --- one pass ----------------------------------------------------------------------------

    def deliver_due(self) -> int:
        """Claim what is due and try each once. Returns how many were handled."""
        with self._pass_lock:
            now = self.clock()
            with self.sessions.begin() as session:
                claimed = queries.claim_due(
                    session,
                    now=now,
                    lease_until=now + self.lease,
                    limit=self.batch,
                    token=self.token,
                    paced=POSTS,
                    unpaced=UNPACED,
                    post_interval=self.post_interval,
                )
                self._next_slot = queries.next_free_slot(session, after=now, paced=POSTS)
                self._next_attempt = queries.next_attempt(session, after=now)
            for message in claimed:
                try:
                    self._deliver(message)
                except Exception:  # one message's trouble must not hold up the rest of the pass
                    log.exception(
                        "could not deliver %s #%s; it is tried again when its claim lapses", message.kind, message.id
                    )
            return len(claimed)

    def _deliver(self, message: OutboxMessage) -> None:
        try:
            delivery = render(message, self.reader)
        except Defer as why:
            self._settle(message, deferred(str(why), until=why.until, now=self.clock()))
            return
        except Drop as why:
            self._settle(message, dropped(str(why)))
            return
        except Exception as error:  # a message Leeway can't build must not hold up the others
            log.exception("could not build %s #%s", message.kind, message.id)
            error_text = f"could not build the message: {type(error).__name__}"
            self._settle(message, retry_or_give_up(error_text, attempts=message.attempts))
            return
        with self.sessions.begin() as session:
            if not queries.renew_claim(
                session, message_id=message.id, token=self.token, lease_until=self.clock() + self.lease
            ):
                return  # another sender took it after our claim lapsed; it sends it
        try:
            response = transport.send(self.client, delivery)
        except Drop as why:  # nowhere Leeway may send it: never fetched, never tried again
            self._settle(message, dropped(str(why)))
            return
        except SlackApiError as error:
            status, code, retry_after = transport.refusal(error)
            self.metrics.slack_errors.labels(code="ratelimited" if status == 429 else code).inc()
            outcome = classify(
                status=status,
                code=code,
                retry_after=retry_after,
                attempts=message.attempts,
                channel=message.channel,
                now=self.clock(),
            )
            self._settle(message, outcome)
            return
        except Exception as error:  # network trouble: Slack may be unreachable for a moment
            error_text = f"{type(error).__name__}: {error}"
            if transport.may_have_landed(delivery.method, error):
                self._settle(message, answer_lost(error_text, attempts=message.attempts, lease=self.lease))
            else:
                self._settle(message, retry_or_give_up(error_text, attempts=message.attempts))
            return
        channel, ts = transport.posted_at(response)
        request: tuple[str, str] | None = None
        with self.sessions.begin() as session:
            queries.mark_sent(
                session, message_id=message.id, token=self.token, at=self.clock(), slack_channel=channel, slack_ts=ts
            )
            if message.kind == OutboxKind.REQUEST and message.proposal_id is not None and channel and ts:
                queries.set_request_message(session, proposal_id=message.proposal_id, channel=channel, ts=ts)
                request = (channel, ts)
        log.info("sent %s #%s via %s to %s", message.kind, message.id, delivery.method, channel or message.channel)
        if request is not None:
            self._tell_request_posted(*request)

    def _tell_request_posted(self, channel: str, ts: str) -> None:
        # Only once the ts is committed: what is told (reactions that came before it) looks it up.
        try:
            self.request_posted(channel, ts)
        except Exception:  # sent and recorded all the same; the schedule catches up on the rest
            log.exception("could not act on the request just posted at %s/%s", channel, ts)

    # --- outcomes ------------------------------------------------------------------------------

    def _settle(self, message: OutboxMessage, outcome: Outcome) -> None:
        """Record what becomes of a message that did not go."""
        if isinstance(outcome, Fail):
            self._fail(message, outcome)
            return
        with self.sessions.begin() as session:
            if isinstance(outcome, Hold):
                if message.kind in POSTS and self.post_interval > timedelta(0):
                    # The whole channel waits, not just this post: the next one would be refused too.
                    # This post is due when the hold ends, so it keeps its place in the line.
                    queries.hold_channel(session, channel=message.channel, until=outcome.until)
                at, counted = outcome.until, False
            else:
                at, counted = self.clock() + outcome.delay, outcome.counted
            queries.reschedule(
                session, message_id=message.id, token=self.token, at=at, error=outcome.error, count_attempt=counted
            )
        if isinstance(outcome, Retry) and outcome.counted:
            log.warning("will retry %s #%s in %s: %s", message.kind, message.id, outcome.delay, outcome.error)

    def _fail(self, message: OutboxMessage, failure: Fail) -> None:
        with self.sessions.begin() as session:
            error = f"{failure.code}: {failure.fix}"
            if not queries.mark_failed(session, message_id=message.id, token=self.token, error=error):
                return
            proposer = self._proposer_to_warn(session, message) if failure.warn else None
            if failure.warn and message.kind == OutboxKind.EXPORT:
                # The lead asked for a file that can't be sent; a direct message still can be.
                queries.enqueue(
                    session,
                    kind=OutboxKind.NOTICE,
                    channel=message.channel,
                    at=self.clock(),
                    dedupe_key=f"failure:{message.id}",
                    detail={"text": export_warning(failure)},
                )
            if proposer:
                queries.enqueue(
                    session,
                    kind=OutboxKind.NOTICE,
                    channel=proposer,
                    at=self.clock(),
                    dedupe_key=f"failure:{message.id}",
                    detail={"text": warning(failure, channel=message.channel)},
                )
        if failure.warn:
            log.error(
                "could not deliver %s #%s to %s: %s. Fix: %s",
                message.kind,
                message.id,
                message.channel,
                failure.code,
                failure.fix,
            )
        else:
            log.info("dropped %s #%s: %s", message.kind, message.id, failure.fix)
        self.wake()

    def _proposer_to_warn(self, session: Session, message: OutboxMessage) -> str | None:
        if message.proposal_id is None or message.kind not in WARN_PROPOSER:
            return None
        proposal = queries.get_proposal(session, proposal_id=message.proposal_id)
        return proposal.proposer if proposal else None

    # --- the one immediate call --------------------------------------------------------------

    def open_view(self, *, trigger_id: str, view: View) -> bool:
        """Forms must open within 3 s of the click, so they skip the queue (but not the log)."""
        try:
            self.client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as error:
            log.error("could not open a form: %s", error.response.get("error"))
            return False
        log.info("opened form %s", view.callback_id)
        return True


def backlog(sessions: sessionmaker[Session], now: datetime) -> tuple[int, float]:
    """How many messages are owed, and the age in seconds of the oldest."""
    with db.reading(sessions) as session:
        count, oldest = queries.outbox_backlog(session)
    return count, (now - oldest).total_seconds() if oldest else 0.0
