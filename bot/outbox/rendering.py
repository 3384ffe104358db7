"""Turns a claimed message into the Slack call that delivers it: one renderer per kind.

A renderer reads the state already decided (the proposal, who was asked, the person's Home) and
puts it into a call. It decides nothing: `Defer` and `Drop` are how it says "not yet" and "never".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.core.export import MAX_EXPORT_ROWS, DecisionRow, decisions_csv
from bot.core.lifecycle import Status
from bot.core.policy import Policy
from bot.core.vocabulary import CustomerOutcome, OutboxKind, OutboxStatus
from bot.slack import views
from storage import db, queries
from storage.models import Decision, LimitChange, OutboxMessage, Proposal

# Not a Web API method: the reply goes through the interaction's response_url.
RESPOND = "response_url"
# Not one Web API method but Slack's three steps of an upload (see transport): a file to a DM.
UPLOAD = "files.upload_v2"


class Defer(Exception):
    """Not yet deliverable (e.g. an update whose original post has not gone out)."""

    def __init__(self, why: str, until: datetime | None = None) -> None:
        super().__init__(why)
        self.until = until


class Drop(Exception):
    """Never deliverable; nothing to retry."""


@dataclass(frozen=True)
class Delivery:
    method: str  # a Web API method, or RESPOND
    args: dict[str, Any]


# The decisions made at `since` or later and no later than `until`, oldest first, at most `limit`.
DecisionsOf = Callable[[datetime, datetime, int], list[DecisionRow]]


def no_decisions(_since: datetime, _until: datetime, _limit: int) -> list[DecisionRow]:
    raise Drop("this sender was given no way to read decisions")


class Reader:
    """What renderers read, each in its own short transaction."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        policy: Callable[[], Policy],
        home_of: Callable[[str], Any],
        *,
        policy_for: Callable[[str], Policy] | None = None,
        decisions: DecisionsOf = no_decisions,
    ) -> None:
        self.sessions = sessions
        self.policy = policy  # the policy in force, as the last refresh left it
        # As it applies to one person (an alone limit a lead offered them): what a private
        # message to them promises must be their own limit, not the team's.
        self.policy_for = policy_for or (lambda _person: policy())
        # The App Home is rendered from the use case's view of the person.
        self.home_of = home_of
        # An export is built from the use case's read of the decisions (services.decisions).
        self.decisions = decisions

    def proposal(self, message: OutboxMessage) -> Proposal:
        with db.reading(self.sessions) as session:
            proposal = queries.get_proposal(session, proposal_id=message.proposal_id or 0)
        if proposal is None:
            raise Drop("its proposal no longer exists")
        return proposal

    def asked(self, proposal: Proposal) -> list[str]:
        with db.reading(self.sessions) as session:
            return queries.asked_so_far(session, proposal_id=proposal.id)

    def decision(self, proposal: Proposal) -> Decision | None:
        with db.reading(self.sessions) as session:
            return queries.decision_of(session, proposal_id=proposal.id)

    def limit_change(self, message: OutboxMessage) -> LimitChange:
        with db.reading(self.sessions) as session:
            change = session.get(LimitChange, int((message.detail or {}).get("change_id") or 0))
        if change is None:
            raise Drop("its limit change no longer exists")
        return change

    def request_due(self, proposal: Proposal) -> datetime:
        """When the original request is next tried: updates wait for it, not in a tight loop."""
        with db.reading(self.sessions) as session:
            original = queries.outbox_message(session, proposal_id=proposal.id, kind=OutboxKind.REQUEST)
        if original is None or original.status == OutboxStatus.FAILED:
            raise Drop("the request message was never posted")
        return original.next_attempt_at


Renderer = Callable[[OutboxMessage, Reader], Delivery]


def render(message: OutboxMessage, read: Reader) -> Delivery:
    try:
        kind = OutboxKind(message.kind)
    except ValueError:
        raise Drop(f"unknown message kind {message.kind!r}") from None
    return RENDERERS[kind](message, read)


def _post(message: OutboxMessage, rendered: views.Message) -> Delivery:
    return Delivery("chat.postMessage", {"channel": message.channel, **rendered.as_kwargs()})


def _ephemeral(message: OutboxMessage, _read: Reader) -> Delivery:
    text = (message.detail or {})["text"]
    return Delivery("chat.postEphemeral", {"channel": message.channel, "user": message.user, "text": text})


def _notice(message: OutboxMessage, _read: Reader) -> Delivery:
    detail = message.detail or {}
    blocks = {"blocks": detail["blocks"]} if detail.get("blocks") else {}
    return Delivery("chat.postMessage", {"channel": message.channel, "text": detail["text"], **blocks})


def _home(message: OutboxMessage, read: Reader) -> Delivery:
    view = views.home(read.home_of(message.channel), read.policy())  # reading the Home refreshes it
    return Delivery("views.publish", {"user_id": message.channel, "view": view.to_dict()})


def _response(message: OutboxMessage, _read: Reader) -> Delivery:
    detail = message.detail or {}
    return Delivery(
        RESPOND,
        {
            "url": detail["response_url"],
            "text": detail["text"],
            **({"blocks": detail["blocks"]} if detail.get("blocks") else {}),
            "response_type": "ephemeral",
            "replace_original": False,
        },
    )


def _request(message: OutboxMessage, read: Reader) -> Delivery:
    proposal = read.proposal(message)
    if proposal.status != Status.PENDING:
        raise Drop("the request was closed before it was posted")
    policy = read.policy()
    return _post(message, views.request(proposal, read.asked(proposal), case_url=policy.case_url, hours=policy.hours))


def _posted_request(proposal: Proposal, read: Reader) -> tuple[str, str]:
    """The request message's channel and ts; what refers to it waits until it is posted."""
    if not proposal.request_ts or not proposal.request_channel:
        raise Defer("the request message has not been posted yet", until=read.request_due(proposal))
    return proposal.request_channel, proposal.request_ts


def _request_update(message: OutboxMessage, read: Reader) -> Delivery:
    proposal = read.proposal(message)
    channel, ts = _posted_request(proposal, read)
    policy = read.policy()
    rendered = views.request(proposal, read.asked(proposal), case_url=policy.case_url, hours=policy.hours)
    return Delivery("chat.update", {"channel": channel, "ts": ts, **rendered.as_kwargs()})


def _reroute_ping(message: OutboxMessage, read: Reader) -> Delivery:
    proposal = read.proposal(message)
    channel, ts = _posted_request(proposal, read)
    asked = (message.detail or {})["asked"]
    if proposal.status != Status.PENDING or proposal.asked != asked:
        raise Drop("the request was decided or moved on before the ping went out")
    ping = views.reroute_ping(proposal, str(asked), case_url=read.policy().case_url)
    return Delivery("chat.postMessage", {"channel": channel, "thread_ts": ts, **ping.as_kwargs()})


def _decision(message: OutboxMessage, read: Reader) -> Delivery:
    policy = read.policy()
    return _post(message, views.decision(read.proposal(message), case_url=policy.case_url, hours=policy.hours))


def _kudos(message: OutboxMessage, read: Reader) -> Delivery:
    proposal = read.proposal(message)
    if proposal.proposer is None:  # never owed: what a customer served themselves celebrates no person
        raise Drop("a grant the customer served themselves has no one to celebrate")
    return _post(message, views.kudos(proposal, case_url=read.policy().case_url))


def _coaching(message: OutboxMessage, read: Reader) -> Delivery:
    proposal = read.proposal(message)
    coaching = views.coaching_note(proposal, read.decision(proposal), case_url=read.policy().case_url)
    return _post(message, coaching)


def _proposer_note(message: OutboxMessage, read: Reader) -> Delivery:
    return _post(message, views.proposer_note(read.proposal(message), read.policy()))


def _welcome(message: OutboxMessage, read: Reader) -> Delivery:
    lead = bool((message.detail or {}).get("lead"))
    return _post(message, views.welcome(read.policy_for(message.channel), message.channel, lead=lead))


def _nudge(message: OutboxMessage, read: Reader) -> Delivery:
    # The button names this message; who may use it is read back from it (see stop_nudges).
    to = message.channel
    nudge = views.nudge(read.policy_for(to), to, message.detail or {}, nudge_id=message.id, at=message.created_at)
    return _post(message, nudge)


def _limit_change(message: OutboxMessage, read: Reader) -> Delivery:
    change, policy = read.limit_change(message), read.policy()
    words = {"celebration": views.change_celebration, "personal": views.personal_offer}.get(
        str((message.detail or {}).get("as")), views.change_record
    )
    return _post(message, words(change, policy))


def _kudos_reply(message: OutboxMessage, read: Reader) -> Delivery:
    """A word in the thread of the decision's celebration, once that has been posted, if the
    customer is still said to be delighted (an agent may correct a mis-click)."""
    proposal = read.proposal(message)
    decision = read.decision(proposal)
    if decision is None or decision.outcome is not CustomerOutcome.DELIGHTED:
        raise Drop("the customer is no longer said to be delighted")
    with db.reading(read.sessions) as session:
        kudos = queries.outbox_message(session, proposal_id=proposal.id, kind=OutboxKind.KUDOS)
    if kudos is None or kudos.status == OutboxStatus.FAILED:
        raise Drop("the decision's celebration was never posted (or is long gone)")
    if not kudos.slack_ts or not kudos.slack_channel:
        raise Defer("the decision's celebration has not been posted yet", until=kudos.next_attempt_at)
    reply = views.kudos_reply(proposal).as_kwargs()
    return Delivery("chat.postMessage", {"channel": kudos.slack_channel, "thread_ts": kudos.slack_ts, **reply})


def _export(message: OutboxMessage, read: Reader) -> Delivery:
    """A lead's CSV of the period fixed when they asked, built now from the database: the oldest
    MAX_EXPORT_ROWS decisions of it, and the message says when there were more."""
    detail = message.detail or {}
    since, until = datetime.fromisoformat(detail["since"]), datetime.fromisoformat(detail["until"])
    days = int(detail.get("days") or 0)
    rows = read.decisions(since, until, MAX_EXPORT_ROWS + 1)
    if not rows:
        return Delivery("chat.postMessage", {"channel": message.channel, "text": views.export_empty(days)})
    capped_at = rows[MAX_EXPORT_ROWS - 1].decided_at if len(rows) > MAX_EXPORT_ROWS else None
    rows = rows[:MAX_EXPORT_ROWS]
    return Delivery(
        UPLOAD,
        {
            "user": message.channel,
            "filename": views.export_filename(since, until),
            "title": views.export_title(days),
            "content": decisions_csv(rows),
            "initial_comment": views.export_comment(days, count=len(rows), capped_at=capped_at),
        },
    )


RENDERERS: dict[OutboxKind, Renderer] = {
    OutboxKind.EPHEMERAL: _ephemeral,
    OutboxKind.NOTICE: _notice,
    OutboxKind.HOME: _home,
    OutboxKind.RESPONSE: _response,
    OutboxKind.REQUEST: _request,
    OutboxKind.REQUEST_UPDATE: _request_update,
    OutboxKind.REROUTE_PING: _reroute_ping,
    OutboxKind.DECISION: _decision,
    OutboxKind.KUDOS: _kudos,
    OutboxKind.COACHING: _coaching,
    OutboxKind.PROPOSER_NOTE: _proposer_note,
    OutboxKind.LIMIT_CHANGE: _limit_change,
    OutboxKind.KUDOS_REPLY: _kudos_reply,
    OutboxKind.WELCOME: _welcome,
    OutboxKind.NUDGE: _nudge,
    OutboxKind.EXPORT: _export,
}
