"""The one way out to Slack.

Services commit the messages they owe together with the state change (the outbox
table); this sender delivers them. A message is claimed with a conditional update
and a lease, so a crash between the grant and the posts only delays them: the next
start (or another instance, once the lease ends) delivers what is still owed.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookClient
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.core.policy import Policy
from bot.core.vocabulary import OutboxKind as Kind
from bot.metrics import Metrics
from bot.slack import views
from storage import queries
from storage.models import OutboxMessage, Proposal

log = logging.getLogger("leeway.outbox")

MAX_ATTEMPTS = 12
# A claim outlives any single Slack call (15 s timeout, connection retries), and is renewed
# before each send, so a slow pass never sends a message another sender has since taken.
LEASE = timedelta(seconds=120)
# Slack allows about one chat.postMessage per second per channel; a burst is spread out, not dropped.
POST_INTERVAL = timedelta(seconds=1)
# The least time between two passes of the sender loop while it is being woken continually; and
# after a pass that found nothing it could send (every channel waiting for its slot).
PASS_GAP = 0.02
QUIET_GAP = 0.2
SLOT_MARGIN = 0.005  # wake just after a slot frees, not just before
# The kinds sent with chat.postMessage (to their row's channel), which the pacing applies to.
POSTS = frozenset(
    {Kind.REQUEST, Kind.REROUTE_PING, Kind.DECISION, Kind.KUDOS, Kind.PROPOSER_NOTE, Kind.NOTICE, Kind.COACHING}
)
# Every other kind (updates, ephemeral lines, replies, Home tabs) goes as soon as it is due.
UNPACED = frozenset(Kind) - POSTS
# Errors that another try cannot fix: a person has to. The fix goes to the log and the proposer.
FIXES: dict[str, str] = {
    "not_in_channel": "invite @Leeway to <#{channel}> (type /invite @Leeway in the channel)",
    "channel_not_found": "check the channel ID {channel} in the policy file, and invite @Leeway to it if it is private",
    "is_archived": "unarchive <#{channel}> or point the policy at another channel",
    "invalid_auth": "check SLACK_BOT_TOKEN: Slack does not accept it",
    "not_authed": "set SLACK_BOT_TOKEN",
    "token_revoked": "reinstall the app and update SLACK_BOT_TOKEN",
    "account_inactive": "reinstall the app and update SLACK_BOT_TOKEN",
    "missing_scope": "add the missing scope in the app's settings (see manifest.yml) and reinstall",
    "user_not_found": "check the user IDs in the policy file",
    "cannot_dm_bot": "check the user IDs in the policy file: one of them is a bot",
    "message_not_found": "nothing: the request message was deleted",
    "cant_update_message": "nothing: the request message can no longer be edited",
    "invalid_blocks": "report this: Leeway built a message Slack would not take",
    "invalid_arguments": "report this: Leeway built a message Slack would not take",
    "msg_too_long": "report this: the message was too long",
    "no_text": "report this: Leeway built an empty message",
}


class Defer(Exception):
    """Not yet deliverable (e.g. an update whose original post has not gone out)."""

    def __init__(self, why: str, until: datetime | None = None) -> None:
        super().__init__(why)
        self.until = until


class Drop(Exception):
    """Never deliverable; nothing to retry."""


@dataclass(frozen=True)
class Delivery:
    method: str
    args: dict[str, Any]


class Sender:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        client: WebClient,
        policy: Policy,
        clock: Clock,
        batch: int = 50,
        idle_wait: float = 1.0,
        lease: timedelta = LEASE,
        post_interval: timedelta = POST_INTERVAL,
        metrics: Metrics | None = None,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.policy = policy
        self.clock = clock
        self.batch = batch
        self.idle_wait = idle_wait
        self.lease = lease
        self.post_interval = post_interval
        self.metrics = metrics or Metrics()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pass_lock = threading.Lock()
        self._next_slot: datetime | None = None  # when the next channel with posts waiting may post
        self._next_attempt: datetime | None = None  # when the next message not yet due falls due
        self.token = uuid.uuid4().hex
        # The App Home is rendered from the use case's view of the person (set by the runtime).
        self.home_of: Callable[[str], Any] = lambda user: None

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
            gather, longest = self._pause(handled, elapsed=time.monotonic() - started)
            self._stop.wait(gather)
            self._wake.wait(longest - gather)

    def _pause(self, handled: int, *, elapsed: float) -> tuple[float, float]:
        """After a pass that handled `handled` messages and took `elapsed` seconds: how long to let
        wakes gather before the next pass, and the longest to rest in all (seconds from now).

        Under load every decision wakes the sender. Let those wakes share one pass instead of each
        costing a query. While posts wait behind their channels' slots and this pass could send
        nothing, the wakes are mostly more of the same, so let them gather longer. But never rest
        past the next slot, or the next retry falling due."""
        now = self.clock()
        until_slot = _seconds_until(self._next_slot, now)
        gap = QUIET_GAP if not handled and until_slot < math.inf else PASS_GAP
        gather = max(0.0, gap - elapsed)
        due = min(until_slot, _seconds_until(self._next_attempt, now)) + SLOT_MARGIN
        # Already due now: a message written while the pass ran, whose writer woke the sender (let
        # that wake gather like any other), or, rarely, a retry that fell due meanwhile (it goes
        # after the gathering). Cutting the gathering short for these would spin under load.
        if due > SLOT_MARGIN:
            gather = min(gather, due)
        return gather, max(gather, min(self.idle_wait, due))

    def _until_next_slot(self) -> float:
        """Seconds until the next channel with posts waiting may post (inf when none waits)."""
        return _seconds_until(self._next_slot, self.clock())

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
            delivery = self._render(message)
        except Defer as why:
            now = self.clock()
            later = max(why.until or now, now + timedelta(milliseconds=300))
            self._reschedule(message, later - now, str(why), count=False)
            return
        except Drop as why:  # nothing went wrong with Slack: there is just nothing left to say
            self._fail(message, "dropped", str(why), warn=False)
            return
        except Exception as error:  # a message Leeway can't build must not hold up the others
            log.exception("could not build %s #%s", message.kind, message.id)
            self._retry(message, f"could not build the message: {type(error).__name__}")
            return
        with self.sessions.begin() as session:
            if not queries.renew_claim(
                session, message_id=message.id, token=self.token, lease_until=self.clock() + self.lease
            ):
                return  # another sender took it after our claim lapsed; it sends it
        try:
            if delivery.method == "response_url":
                response = self._respond(delivery.args)
            else:
                response = self.client.api_call(delivery.method, json=delivery.args)
        except SlackApiError as error:
            self._on_error(message, error)
            return
        except Exception as error:  # network trouble: Slack may be unreachable for a moment
            self._retry(message, f"{type(error).__name__}: {error}")
            return
        data = response.data if isinstance(response.data, dict) else {}
        channel = data.get("channel") if isinstance(data.get("channel"), str) else None
        ts = data.get("ts") or data.get("message_ts")
        with self.sessions.begin() as session:
            queries.mark_sent(
                session, message_id=message.id, token=self.token, at=self.clock(), slack_channel=channel, slack_ts=ts
            )
            if message.kind == Kind.REQUEST and message.proposal_id is not None and channel and ts:
                queries.set_request_message(session, proposal_id=message.proposal_id, channel=channel, ts=ts)
        log.info("sent %s #%s via %s to %s", message.kind, message.id, delivery.method, channel or message.channel)

    def _render(self, message: OutboxMessage) -> Delivery:
        detail = message.detail or {}
        if message.kind == Kind.EPHEMERAL:
            return Delivery(
                "chat.postEphemeral", {"channel": message.channel, "user": message.user, "text": detail["text"]}
            )
        if message.kind == Kind.NOTICE:
            blocks = {"blocks": detail["blocks"]} if detail.get("blocks") else {}
            return Delivery("chat.postMessage", {"channel": message.channel, "text": detail["text"], **blocks})
        if message.kind == Kind.HOME:
            return Delivery(
                "views.publish",
                {"user_id": message.channel, "view": views.home(self.home_of(message.channel), self.policy).to_dict()},
            )
        if message.kind == Kind.RESPONSE:
            return Delivery(
                "response_url",
                {
                    "url": detail["response_url"],
                    "text": detail["text"],
                    "response_type": "ephemeral",
                    "replace_original": False,
                },
            )
        proposal = self._proposal(message)
        if message.kind == Kind.REQUEST:
            if proposal.status != "pending":
                raise Drop("the request was closed before it was posted")
            rendered = views.request(proposal, self._asked(proposal))
            return Delivery("chat.postMessage", {"channel": message.channel, **rendered.as_kwargs()})
        if message.kind in (Kind.REQUEST_UPDATE, Kind.REROUTE_PING):
            if not proposal.request_ts or not proposal.request_channel:
                raise Defer("the request message has not been posted yet", until=self._request_due(proposal))
            where = {"channel": proposal.request_channel}
            if message.kind == Kind.REROUTE_PING:
                if proposal.status != "pending" or proposal.asked != detail["asked"]:
                    raise Drop("the request was decided or moved on before the ping went out")
                ping = views.reroute_ping(proposal, str(detail["asked"]))
                return Delivery("chat.postMessage", {**where, "thread_ts": proposal.request_ts, **ping.as_kwargs()})
            rendered = views.request(proposal, self._asked(proposal))
            return Delivery("chat.update", {**where, "ts": proposal.request_ts, **rendered.as_kwargs()})
        if message.kind == Kind.DECISION:
            return Delivery("chat.postMessage", {"channel": message.channel, **views.decision(proposal).as_kwargs()})
        if message.kind == Kind.KUDOS:
            return Delivery("chat.postMessage", {"channel": message.channel, **views.kudos(proposal).as_kwargs()})
        if message.kind == Kind.COACHING:
            with self.sessions.begin() as session:
                decision = queries.decision_of(session, proposal_id=proposal.id)
            return Delivery(
                "chat.postMessage", {"channel": message.channel, **views.coaching_note(proposal, decision).as_kwargs()}
            )
        if message.kind == Kind.PROPOSER_NOTE:
            return Delivery(
                "chat.postMessage", {"channel": message.channel, **views.proposer_note(proposal).as_kwargs()}
            )
        raise Drop(f"unknown message kind {message.kind!r}")

    def _proposal(self, message: OutboxMessage) -> Proposal:
        with self.sessions.begin() as session:
            proposal = queries.get_proposal(session, proposal_id=message.proposal_id or 0)
        if proposal is None:
            raise Drop("its proposal no longer exists")
        return proposal

    def _asked(self, proposal: Proposal) -> list[str]:
        with self.sessions.begin() as session:
            return queries.asked_so_far(session, proposal_id=proposal.id)

    def _request_due(self, proposal: Proposal) -> datetime:
        """When the original request is next tried: updates wait for it, not in a tight loop."""
        with self.sessions.begin() as session:
            original = queries.outbox_message(session, proposal_id=proposal.id, kind=Kind.REQUEST)
        if original is None or original.status == "failed":
            raise Drop("the request message was never posted")
        return original.next_attempt_at

    # --- outcomes ------------------------------------------------------------------------------

    def _on_error(self, message: OutboxMessage, error: SlackApiError) -> None:
        status = getattr(error.response, "status_code", 200)
        code = str(error.response.get("error", "unknown_error"))
        self.metrics.slack_errors.labels(code="ratelimited" if status == 429 else code).inc()
        if status == 429 or code == "ratelimited":
            retry_after = timedelta(seconds=_retry_after(error))
            at = self.clock() + retry_after
            with self.sessions.begin() as session:
                if message.kind in POSTS and self.post_interval > timedelta(0):
                    # The whole channel waits, not just this post: the next one would be refused too.
                    # This post is due when the hold ends, so it keeps its place in the line.
                    queries.hold_channel(session, channel=message.channel, until=at)
                queries.reschedule(
                    session,
                    message_id=message.id,
                    token=self.token,
                    at=at,
                    error=f"ratelimited (retry after {retry_after.seconds}s)",
                    count_attempt=False,
                )
            return
        if code in FIXES:
            self._fail(message, code, FIXES[code].format(channel=message.channel))
            return
        self._retry(message, code)

    def _retry(self, message: OutboxMessage, error: str) -> None:
        attempts = message.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            self._fail(message, error, f"gave up after {attempts} attempts")
            return
        self._reschedule(message, timedelta(seconds=min(300, 2**attempts)), error, count=True)

    def _reschedule(self, message: OutboxMessage, delay: timedelta, error: str, *, count: bool) -> None:
        with self.sessions.begin() as session:
            queries.reschedule(
                session,
                message_id=message.id,
                token=self.token,
                at=self.clock() + delay,
                error=error,
                count_attempt=count,
            )
        if count:
            log.warning("will retry %s #%s in %s: %s", message.kind, message.id, delay, error)

    def _fail(self, message: OutboxMessage, code: str, fix: str, *, warn: bool = True) -> None:
        with self.sessions.begin() as session:
            if not queries.mark_failed(session, message_id=message.id, token=self.token, error=f"{code}: {fix}"):
                return
            proposer = self._proposer_to_warn(session, message) if warn else None
            if proposer:
                queries.enqueue(
                    session,
                    kind=Kind.NOTICE,
                    channel=proposer,
                    at=self.clock(),
                    dedupe_key=f"failure:{message.id}",
                    detail={
                        "text": (
                            f":warning: Leeway couldn't post to <#{message.channel}> ({code}). "
                            f"To fix it: {fix}. Your decision itself is recorded and safe."
                        )
                    },
                )
        if warn:
            log.error(
                "could not deliver %s #%s to %s: %s. Fix: %s", message.kind, message.id, message.channel, code, fix
            )
        else:
            log.info("dropped %s #%s: %s", message.kind, message.id, fix)
        self.wake()

    def _proposer_to_warn(self, session: Session, message: OutboxMessage) -> str | None:
        # Only channel posts that carry a decision; a failed DM cannot warn by DM.
        if message.proposal_id is None or message.kind not in (
            Kind.DECISION,
            Kind.KUDOS,
            Kind.REQUEST,
            Kind.REROUTE_PING,
        ):
            return None
        proposal = queries.get_proposal(session, proposal_id=message.proposal_id)
        return proposal.proposer if proposal else None

    def _respond(self, args: dict[str, Any]) -> Any:
        """Reply through an interaction's response_url: it works in channels Leeway isn't in."""
        url = str(args["url"])
        result = WebhookClient(url, timeout=15).send_dict({k: v for k, v in args.items() if k != "url"})
        if result.status_code >= 400:
            raise RuntimeError(f"response_url answered {result.status_code}")
        return SlackResponse(
            client=self.client,
            http_verb="POST",
            api_url=url,
            req_args={},
            data={"ok": True},
            headers={},
            status_code=result.status_code,
        )

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


def _seconds_until(when: datetime | None, now: datetime) -> float:
    return math.inf if when is None else max(0.0, (when - now).total_seconds())


def _retry_after(error: SlackApiError) -> int:
    headers = getattr(error.response, "headers", {}) or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1, int(value)) if value is not None else 1
    except (TypeError, ValueError):
        return 1


def backlog(sessions: sessionmaker[Session], now: datetime) -> tuple[int, float]:
    """How many messages are owed, and the age in seconds of the oldest."""
    with sessions.begin() as session:
        count, oldest = queries.outbox_backlog(session)
    return count, (now - oldest).total_seconds() if oldest else 0.0
