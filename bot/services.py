"""Use cases. Each owns one transaction, commits the state change together with the
messages it owes Slack (the outbox), and returns what to tell the person who acted."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from bot.clock import Clock
from bot.core import authority, lifecycle
from bot.core.authority import Roster
from bot.core.lifecycle import Event, Status
from bot.core.parsing import Draft, InputError, check_reason
from bot.core.policy import Policy, Remedy, Tier
from bot.core.timing import add_working_time, next_open
from bot.core.usage import GrantedRecord, UsageReport, usage_report
from bot.group_commit import GroupCommit
from bot.metrics import Metrics
from storage import queries
from storage.models import Decision, Proposal


class Kind:
    """What an outbox message is; the sender renders it from the proposal's state."""

    REQUEST = "request"  # the ask, in the requests channel
    REQUEST_UPDATE = "request_update"  # the ask, brought up to date
    DECISION = "decision"  # the audit record, in the decisions channel
    KUDOS = "kudos"  # the celebration, in the kudos channel
    PROPOSER_NOTE = "proposer_note"  # private word to the proposer about the outcome
    REROUTE_PING = "reroute_ping"  # a mention of the next person, in the request's thread
    EPHEMERAL = "ephemeral"  # a private line to one person in a channel
    NOTICE = "notice"  # a direct message with given text
    RESPONSE = "response"  # a private reply through an interaction's response_url
    COACHING = "coaching"  # a lead's private coaching note to the agent
    HOME = "home"  # the person's App Home, rendered fresh


@dataclass(frozen=True)
class Context:
    policy: Policy
    roster: Callable[[], Roster]
    sessions: sessionmaker[Session]
    clock: Clock
    wake_sender: Callable[[], None] = lambda: None
    metrics: Metrics = field(default_factory=Metrics)
    # Grants within the agent's own authority that arrive together are written together.
    alone_grants: GroupCommit[queries.NewProposal, int] = field(
        default_factory=lambda: GroupCommit(alone_on=(IntegrityError, DataError))
    )


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Granted:
    proposal: Proposal


@dataclass(frozen=True)
class Asked:
    proposal: Proposal


@dataclass(frozen=True)
class OutOfPolicy:
    remedy: Remedy
    amount: Decimal


@dataclass(frozen=True)
class Refused:
    reason: str


@dataclass(frozen=True)
class AlreadyDecided:
    proposal: Proposal


@dataclass(frozen=True)
class Declined:
    proposal: Proposal


@dataclass(frozen=True)
class NotFound:
    pass


@dataclass(frozen=True)
class Withdrawn:
    proposal: Proposal


@dataclass(frozen=True)
class Reviewed:
    proposal: Proposal
    outcome: str


ONLY_LEADS_REVIEW = "Only leads can see the review queue. Reviews happen later, privately, and without blame."
ONLY_LEADS_USAGE = "Only leads can see usage."


ProposeResult = Granted | Asked | OutOfPolicy | Refused
AgreeResult = Granted | Refused | AlreadyDecided | NotFound
DeclineResult = Declined | Refused | AlreadyDecided | NotFound


# --- propose ---------------------------------------------------------------------------------


def propose(
    ctx: Context, *, proposer: str, draft: Draft, origin_channel: str | None, source_key: str | None
) -> ProposeResult:
    """Record a complete draft: grant it at once in the alone tier, or ask one peer or lead.

    Raises InputError for a draft that names a person who may not agree."""
    roster = ctx.roster()
    why_not = authority.may_propose(roster, proposer)
    if why_not:
        return Refused(why_not)
    if not draft.complete:
        raise ValueError(f"incomplete draft: {draft.missing}")
    remedy = ctx.policy.remedy(draft.remedy_id or "")
    if remedy is None:
        raise InputError("Choose one of the remedies in your policy.", "remedy_id")
    assert draft.amount is not None and draft.case_ref is not None and draft.summary is not None
    tier = remedy.tier_for(draft.amount)
    if tier is Tier.OUT_OF_POLICY:
        ctx.metrics.outcome(tier, "out_of_policy")
        return OutOfPolicy(remedy, draft.amount)

    if tier is Tier.ALONE:
        return _grant_alone(
            ctx, proposer=proposer, remedy=remedy, draft=draft, origin_channel=origin_channel, source_key=source_key
        )
    try:
        with ctx.sessions.begin() as session:
            # A repeat of the same submission hits the unique source key (handled below).
            now = ctx.clock()
            queries.lock_routing(session)
            asked = _whom_to_ask(session, tier, roster, proposer, draft.peer, now)
            if isinstance(asked, Refused):
                return asked
            hours = ctx.policy.hours
            proposal = queries.add_proposal(
                session,
                **_proposal_fields(
                    ctx,
                    remedy,
                    draft,
                    tier=tier,
                    proposer=proposer,
                    origin_channel=origin_channel,
                    source_key=source_key,
                    now=now,
                ),
                status=Status.PENDING,
                asked=asked,
                decided_at=None,
                decided_by=None,
                reroute_at=add_working_time(now, ctx.policy.reroute_after, hours),
                expire_at=add_working_time(now, ctx.policy.expire_after, hours),
            )
            queries.add_rows(
                session,
                [
                    (
                        proposal.id,
                        queries.Rows(
                            events=[
                                _event(now, "proposed", proposer, tier=str(tier), amount=str(draft.amount)),
                                _event(now, "asked", None, asked=asked),
                            ]
                        ),
                    )
                ],
            )
            # Outside working hours no one is pinged: the request waits for the day to begin.
            queries.enqueue(
                session,
                kind=Kind.REQUEST,
                channel=ctx.policy.channels.requests,
                at=next_open(now, hours),
                proposal_id=proposal.id,
                dedupe_key=f"{Kind.REQUEST}:{proposal.id}",
            )
    except IntegrityError as error:
        return _already_recorded(ctx, source_key, error)
    ctx.metrics.outcome(tier, "asked")
    ctx.wake_sender()
    return Asked(proposal)


def _grant_alone(
    ctx: Context, *, proposer: str, remedy: Remedy, draft: Draft, origin_channel: str | None, source_key: str | None
) -> ProposeResult:
    """Within the agent's own authority the new row is itself the grant: no one else can race
    for it, so it is stored granted, and the history still reads proposed → granted."""
    now = ctx.clock()
    fields = {
        **_proposal_fields(
            ctx,
            remedy,
            draft,
            tier=Tier.ALONE,
            proposer=proposer,
            origin_channel=origin_channel,
            source_key=source_key,
            now=now,
        ),
        "status": Status.GRANTED,
        "asked": None,
        "decided_at": now,
        "decided_by": proposer,
        "reroute_at": None,
        "expire_at": None,
    }

    grant = _grant_rows(
        ctx, tier=Tier.ALONE, proposer=proposer, created_at=now, approver=proposer, via="alone", now=now
    )
    proposed = _event(now, "proposed", proposer, tier=str(Tier.ALONE), amount=str(draft.amount))
    rows = replace(grant, events=[proposed, *grant.events])
    try:
        proposal_id = ctx.alone_grants.submit(
            (fields, rows), lambda batch: queries.commit_proposals(ctx.sessions, batch)
        )
    except IntegrityError as error:
        return _already_recorded(ctx, source_key, error)
    _count_grant(ctx, Tier.ALONE, seconds=0)
    ctx.wake_sender()
    return Granted(Proposal(id=proposal_id, **fields))


def _proposal_fields(
    ctx: Context,
    remedy: Remedy,
    draft: Draft,
    *,
    tier: Tier,
    proposer: str,
    origin_channel: str | None,
    source_key: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "source_key": source_key,
        "remedy_id": remedy.id,
        "remedy_label": remedy.label,
        "unit": ctx.policy.unit_of(remedy),
        "amount": draft.amount,
        "customer_fair": draft.fair,
        "case_ref": draft.case_ref,
        "summary": draft.summary,
        "tier": tier,
        "proposer": proposer,
        "origin_channel": origin_channel,
        "created_at": now,
    }


def _event(at: datetime, kind: str, actor: str | None, **detail: str) -> dict[str, Any]:
    return {"at": at, "kind": kind, "actor": actor, "detail": detail}


def _already_recorded(ctx: Context, source_key: str | None, error: IntegrityError) -> Granted | Asked:
    """The same submission arrived twice at once; the other one recorded it."""
    if source_key:
        with ctx.sessions.begin() as session:
            existing = queries.proposal_by_source_key(session, key=source_key)
        if existing is not None:
            return _result_of(existing)
    raise error


def _result_of(proposal: Proposal) -> Granted | Asked:
    return Granted(proposal) if proposal.status == Status.GRANTED else Asked(proposal)


def _whom_to_ask(
    session: Session, tier: Tier, roster: Roster, proposer: str, named: str | None, now: datetime
) -> str | Refused:
    away = queries.away_users(session, now=now)
    if named is not None:
        why_not = authority.refusal(tier, roster, proposer, named)
        if why_not:
            who = "you" if named == proposer else f"<@{named}>"
            raise InputError(
                f"Leeway can't ask {who} to agree to this: {why_not} "
                "Leave the mention out and Leeway picks someone who can.",
                "peer",
            )
        if named in away:
            raise InputError(
                f"<@{named}> is away{_until(away[named])}. Leave the mention out and Leeway "
                "picks someone who's around.",
                "peer",
            )
        return named
    candidates = tuple(u for u in authority.eligible(tier, roster, proposer) if u not in away)
    chosen = authority.pick_peer(
        candidates, queries.open_asks(session, users=candidates), queries.last_asked(session, users=candidates)
    )
    if chosen is None:
        who = "lead" if tier is Tier.LEAD else "agent or lead"
        return Refused(
            f"There's no other {who} in Leeway's policy who is around to agree to this, so it "
            "can't be routed right now. Ask a lead to add people under `people` in the policy."
        )
    return chosen


# --- agree / decline -------------------------------------------------------------------------


def _decidable(
    session: Session, ctx: Context, *, proposal_id: int, user: str
) -> Proposal | Refused | AlreadyDecided | NotFound:
    """The pending proposal `user` may agree to or decline, or why not."""
    proposal = queries.get_proposal(session, proposal_id=proposal_id)
    if proposal is None:
        return NotFound()
    why_not = authority.refusal(Tier(proposal.tier), ctx.roster(), proposal.proposer, user)
    if why_not:
        return Refused(why_not)
    if proposal.status != Status.PENDING:
        return AlreadyDecided(proposal)
    return proposal


def _mark(proposal: Proposal, **values: Any) -> None:
    """Record what a conditional update changed on the loaded object, without another SELECT."""
    for name, value in values.items():
        set_committed_value(proposal, name, value)


def agree(ctx: Context, *, proposal_id: int, user: str, via: str) -> AgreeResult:
    """`user` agrees: the first valid agreement grants; every later one finds it decided."""
    with ctx.sessions.begin() as session:
        proposal = _decidable(session, ctx, proposal_id=proposal_id, user=user)
        if not isinstance(proposal, Proposal):
            return proposal
        if not _grant(session, ctx, proposal, approver=user, via=via):
            session.refresh(proposal)  # the winner changed it: report what it is now
            return AlreadyDecided(proposal)
    ctx.wake_sender()
    return Granted(proposal)


# Slack may deliver a ✅ before the sender has recorded the ts of the request it answers.
REACTION_LOOKUP_TRIES = 20
REACTION_LOOKUP_PAUSE_SECONDS = 0.1


def agree_by_reaction(ctx: Context, *, channel: str, ts: str, user: str, reaction: str) -> AgreeResult | None:
    """A ✅ on a request message agrees; anything else about reactions is ignored, silently."""
    if not authority.is_agreement_reaction(reaction):
        return None
    tries = REACTION_LOOKUP_TRIES if channel == ctx.policy.channels.requests else 1
    for attempt in range(tries):
        with ctx.sessions.begin() as session:
            # This order matters under READ COMMITTED, where each statement sees its own snapshot:
            # a request already marked sent here has its ts committed for the lookup after it.
            being_posted = queries.request_being_posted(session, channel=channel)
            proposal = queries.proposal_by_request_message(session, channel=channel, ts=ts)
            found = proposal.id if proposal is not None else None
        # Agree in a transaction of its own, after the lookup's has ended.
        if found is not None:
            return agree(ctx, proposal_id=found, user=user, via="reaction")
        if not being_posted:
            return None  # not a request of ours at all
        if attempt + 1 < tries:
            threading.Event().wait(REACTION_LOOKUP_PAUSE_SECONDS)
    return None


def may_decide(ctx: Context, *, proposal_id: int, user: str) -> Proposal | Refused | AlreadyDecided | NotFound:
    """Check before opening the decline form, so no one fills it in for nothing."""
    with ctx.sessions.begin() as session:
        return _decidable(session, ctx, proposal_id=proposal_id, user=user)


def decline(ctx: Context, *, proposal_id: int, user: str, reason: str | None) -> DeclineResult:
    """Declines are private: the proposer hears why; the request just reads "closed"."""
    reason = check_reason(reason)
    with ctx.sessions.begin() as session:
        proposal = _decidable(session, ctx, proposal_id=proposal_id, user=user)
        if not isinstance(proposal, Proposal):
            return proposal
        now = ctx.clock()
        changed = queries.change_status(
            session,
            proposal_id=proposal.id,
            from_statuses=lifecycle.sources(Event.DECLINE),
            to_status=lifecycle.target(Event.DECLINE),
            decided_at=now,
            decided_by=user,
            decline_reason=reason,
        )
        if not changed:
            session.refresh(proposal)  # the winner changed it: report what it is now
            return AlreadyDecided(proposal)
        queries.add_event(
            session,
            proposal_id=proposal.id,
            at=now,
            kind="declined",
            actor=user,
            detail={"reason": reason} if reason else {},
        )
        ctx.metrics.outcome(proposal.tier, "declined")
        queries.enqueue(
            session, kind=Kind.REQUEST_UPDATE, channel=ctx.policy.channels.requests, at=now, proposal_id=proposal.id
        )
        queries.enqueue(
            session,
            kind=Kind.PROPOSER_NOTE,
            channel=proposal.proposer,
            at=now,
            proposal_id=proposal.id,
            dedupe_key=f"{Kind.PROPOSER_NOTE}:{proposal.id}",
        )
        _mark(proposal, status=Status.DECLINED, decided_at=now, decided_by=user, decline_reason=reason)
    ctx.wake_sender()
    return Declined(proposal)


def _grant(session: Session, ctx: Context, proposal: Proposal, *, approver: str, via: str) -> bool:
    """The single conditional state change that grants, plus everything a grant owes."""
    now = ctx.clock()
    changed = queries.change_status(
        session,
        proposal_id=proposal.id,
        from_statuses=lifecycle.sources(Event.GRANT),
        to_status=lifecycle.target(Event.GRANT),
        decided_at=now,
        decided_by=approver,
    )
    if not changed:
        return False
    _mark(proposal, status=Status.GRANTED, decided_at=now, decided_by=approver)
    _record_grant(session, ctx, proposal, approver=approver, via=via, now=now)
    return True


def _record_grant(
    session: Session, ctx: Context, proposal: Proposal, *, approver: str, via: str, now: datetime
) -> None:
    rows = _grant_rows(
        ctx,
        tier=proposal.tier,
        proposer=proposal.proposer,
        created_at=proposal.created_at,
        approver=approver,
        via=via,
        now=now,
    )
    queries.add_rows(session, [(proposal.id, rows)])
    _count_grant(ctx, proposal.tier, seconds=rows.decisions[0]["seconds_to_decision"])


def _grant_rows(
    ctx: Context, *, tier: str, proposer: str, created_at: datetime, approver: str, via: str, now: datetime
) -> queries.Rows:
    """What every grant owes: the agreement, the history, the audit record and the posts."""
    alone = via == "alone"
    channels = ctx.policy.channels
    owed = [(Kind.DECISION, channels.decisions), (Kind.KUDOS, channels.kudos)]
    if not alone:
        owed += [(Kind.REQUEST_UPDATE, channels.requests), (Kind.PROPOSER_NOTE, proposer)]
    return queries.Rows(
        approvals=[{"approver": approver, "via": via, "at": now}],
        events=[_event(now, "granted", approver, via=via)],
        decisions=[
            {
                "tier": tier,
                "agreed_by": None if alone else approver,
                "granted_at": now,
                "seconds_to_decision": max(0, int((now - created_at).total_seconds())),
            }
        ],
        # One post of each kind per proposal; a request may be brought up to date more than once.
        outbox=[
            queries.outbox_row(
                kind=kind,
                channel=channel,
                at=now,
                dedupe_key=None if kind == Kind.REQUEST_UPDATE else f"{kind}:{queries.THIS_PROPOSAL}",
            )
            for kind, channel in owed
        ],
    )


def _count_grant(ctx: Context, tier: str, *, seconds: int) -> None:
    ctx.metrics.outcome(tier, "granted")
    ctx.metrics.time_to_decision.labels(tier=tier).observe(seconds)


# --- private lines -----------------------------------------------------------------------------


def tell(
    ctx: Context,
    *,
    user: str,
    text: str,
    channel: str | None = None,
    response_url: str | None = None,
    dedupe_key: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
) -> None:
    """Queue a private line to one person: through an interaction's response_url (works in any
    channel), else ephemeral in `channel`, else a direct message."""
    try:
        with ctx.sessions.begin() as session:
            if response_url:
                queries.enqueue(
                    session,
                    kind=Kind.RESPONSE,
                    channel=channel or user,
                    user=user,
                    at=ctx.clock(),
                    detail={"text": text, "response_url": response_url},
                    dedupe_key=dedupe_key,
                )
            elif channel:
                queries.enqueue(
                    session,
                    kind=Kind.EPHEMERAL,
                    channel=channel,
                    user=user,
                    at=ctx.clock(),
                    detail={"text": text},
                    dedupe_key=dedupe_key,
                )
            else:
                detail: dict[str, Any] = {"text": text, **({"blocks": blocks} if blocks else {})}
                queries.enqueue(
                    session, kind=Kind.NOTICE, channel=user, at=ctx.clock(), detail=detail, dedupe_key=dedupe_key
                )
    except IntegrityError:
        if dedupe_key is None:
            raise
        return  # already told: a repeated submission says it once
    ctx.wake_sender()


# --- no one waits: the schedule ---------------------------------------------------------------

DUE_BATCH = 100


def expire_due(ctx: Context) -> int:
    """Requests no one answered in time expire: nothing can grant them afterwards."""
    now, hours = ctx.clock(), ctx.policy.hours
    with ctx.sessions.begin() as session:
        due = [p.id for p in queries.due_for_expiry(session, now=now, limit=DUE_BATCH)]
    expired = 0
    for proposal_id in due:
        with ctx.sessions.begin() as session:
            if not queries.change_status(
                session,
                proposal_id=proposal_id,
                from_statuses=lifecycle.sources(Event.EXPIRE),
                to_status=lifecycle.target(Event.EXPIRE),
                decided_at=now,
                reroute_at=None,
            ):
                continue  # decided meanwhile, or another instance expired it
            proposal = queries.get_proposal(session, proposal_id=proposal_id)
            assert proposal is not None
            queries.add_event(session, proposal_id=proposal_id, at=now, kind="expired", actor=None)
            ctx.metrics.outcome(proposal.tier, "expired")
            queries.enqueue(
                session, kind=Kind.REQUEST_UPDATE, channel=ctx.policy.channels.requests, at=now, proposal_id=proposal_id
            )
            queries.enqueue(
                session,
                kind=Kind.PROPOSER_NOTE,
                channel=proposal.proposer,
                at=next_open(now, hours),
                proposal_id=proposal_id,
                dedupe_key=f"{Kind.PROPOSER_NOTE}:{proposal_id}",
            )
            expired += 1
    if expired:
        ctx.wake_sender()
    return expired


def reroute_due(ctx: Context) -> int:
    """Unanswered requests are offered to the next eligible person who is around.
    The earlier people may still answer; no one is pinged outside working hours."""
    now, hours, policy = ctx.clock(), ctx.policy.hours, ctx.policy
    with ctx.sessions.begin() as session:
        queries.adopt_deadlines(
            session,
            reroute_at=add_working_time(now, policy.reroute_after, hours),
            expire_at=add_working_time(now, policy.expire_after, hours),
        )
    if hours is not None and not hours.is_open(now):
        return 0
    with ctx.sessions.begin() as session:
        due = [(p.id, p.reroute_at) for p in queries.due_for_reroute(session, now=now, limit=DUE_BATCH)]
    roster, moved = ctx.roster(), 0
    for proposal_id, was_due_at in due:
        assert was_due_at is not None
        with ctx.sessions.begin() as session:
            queries.lock_routing(session)
            proposal = queries.get_proposal(session, proposal_id=proposal_id)
            if proposal is None or proposal.status != Status.PENDING:
                continue
            away = queries.away_users(session, now=now)
            around = [u for u in authority.eligible(Tier(proposal.tier), roster, proposal.proposer) if u not in away]
            asked_before = queries.asked_so_far(session, proposal_id=proposal_id)
            # Only people not yet asked: no one is pinged twice. Once everyone has been, the
            # request waits in the channel, where anyone eligible can still answer, until it expires.
            pool = [u for u in around if u not in asked_before]
            chosen = authority.pick_peer(
                pool, queries.open_asks(session, users=pool), queries.last_asked(session, users=pool)
            )
            if not queries.claim_reroute(
                session,
                proposal_id=proposal_id,
                was_due_at=was_due_at,
                asked=chosen or proposal.asked,
                next_reroute_at=add_working_time(now, policy.reroute_after, hours),
            ):
                continue  # another instance moved it on
            if chosen is None:
                continue  # no one else is around: try again later
            queries.add_event(
                session,
                proposal_id=proposal_id,
                at=now,
                kind="asked",
                actor=None,
                detail={"asked": chosen, "rerouted_from": proposal.asked},
            )
            queries.enqueue(
                session,
                kind=Kind.REROUTE_PING,
                channel=policy.channels.requests,
                at=now,
                proposal_id=proposal_id,
                detail={"asked": chosen},
                dedupe_key=f"{Kind.REROUTE_PING}:{proposal_id}:{was_due_at.isoformat()}",
            )
            queries.enqueue(
                session, kind=Kind.REQUEST_UPDATE, channel=policy.channels.requests, at=now, proposal_id=proposal_id
            )
            moved += 1
    if moved:
        ctx.wake_sender()
    return moved


# --- away and back -------------------------------------------------------------------------------


def away(ctx: Context, *, user: str, until_day: date | None = None, duration: timedelta | None = None) -> str:
    """The away are never picked and never pinged. Returns what to tell them."""
    if not ctx.roster().is_agent(user):
        return authority.may_propose(ctx.roster(), user) or ""
    now = ctx.clock()
    until: datetime | None = None
    if until_day is not None:  # "until 2026-12-01": back on that day, in the policy's time zone
        until = datetime.combine(until_day, time(0), tzinfo=ctx.policy.tz)
    elif duration is not None:
        until = now + duration
    if until is not None and until <= now:
        raise InputError(
            "That's already in the past. Give a date still to come, like "
            f"`/remedy away until {(now + timedelta(days=7)).date().isoformat()}`."
        )
    try:
        with ctx.sessions.begin() as session:
            queries.set_away(session, user=user, since=now, until=until)
    except IntegrityError:  # the same person said it twice at once; the second one updates
        with ctx.sessions.begin() as session:
            queries.set_away(session, user=user, since=now, until=until)
    return (
        f":palm_tree: You're away{_until(until)}. Leeway won't ask you to agree to anything or ping you "
        "until then. Type `/remedy back` when you return."
    )


def back(ctx: Context, *, user: str) -> str:
    with ctx.sessions.begin() as session:
        was_away = queries.set_back(session, user=user)
    return (
        "Welcome back! Leeway will ask you again when a peer is needed."
        if was_away
        else "You weren't marked away, so nothing changed."
    )


def _until(until: datetime | None) -> str:
    return f" until {until.strftime('%Y-%m-%d %H:%M %Z').strip()}" if until else ""


# --- withdraw --------------------------------------------------------------------------------


def withdraw(
    ctx: Context, *, user: str, proposal_id: int | None = None, case_ref: str | None = None
) -> Withdrawn | Refused | AlreadyDecided | NotFound:
    """Only the proposer withdraws, and only while it is pending."""
    with ctx.sessions.begin() as session:
        if proposal_id is None:
            mine = queries.pending_of(session, proposer=user, case_ref=case_ref)
            if not mine:
                return Refused(f"You have no pending request for case `{case_ref}`.")
            if len(mine) > 1:
                return Refused(
                    f"You have {len(mine)} pending requests for case `{case_ref}`; use the "
                    "Withdraw button on the one you mean."
                )
            proposal_id = mine[0].id
        proposal = queries.get_proposal(session, proposal_id=proposal_id)
        if proposal is None:
            return NotFound()
        if proposal.proposer != user:
            return Refused("Only the person who proposed it can withdraw a request.")
        now = ctx.clock()
        if not queries.change_status(
            session,
            proposal_id=proposal_id,
            from_statuses=lifecycle.sources(Event.WITHDRAW),
            to_status=lifecycle.target(Event.WITHDRAW),
            decided_at=now,
            decided_by=user,
            reroute_at=None,
        ):
            session.refresh(proposal)
            return AlreadyDecided(proposal)
        queries.add_event(session, proposal_id=proposal_id, at=now, kind="withdrawn", actor=user)
        ctx.metrics.outcome(proposal.tier, "withdrawn")
        queries.enqueue(
            session, kind=Kind.REQUEST_UPDATE, channel=ctx.policy.channels.requests, at=now, proposal_id=proposal_id
        )
        _mark(proposal, status=Status.WITHDRAWN, decided_at=now, decided_by=user, reroute_at=None)
    ctx.wake_sender()
    return Withdrawn(proposal)


def draft_again(ctx: Context, *, proposal_id: int, user: str) -> Draft | Refused:
    """The proposer's own earlier proposal, as a draft to send again (facts from the database)."""
    with ctx.sessions.begin() as session:
        proposal = queries.get_proposal(session, proposal_id=proposal_id)
    if proposal is None or proposal.proposer != user:
        return Refused("Only the person who proposed it can propose it again.")
    return Draft(
        remedy_id=proposal.remedy_id,
        amount=proposal.amount,
        case_ref=proposal.case_ref,
        summary=proposal.summary,
        fair=proposal.customer_fair,
    )


# --- review later, without blame ---------------------------------------------------------------

REVIEW_OUTCOMES = ("looks_good", "talk")
REVIEW_PAGE = 10


def review_queue(ctx: Context, *, user: str) -> tuple[list[tuple[Proposal, Decision]], int] | Refused:
    """Granted decisions no lead has reviewed yet, oldest first, and how many there are."""
    if not ctx.roster().is_lead(user):
        return Refused(ONLY_LEADS_REVIEW)
    with ctx.sessions.begin() as session:
        return queries.review_queue(session, limit=REVIEW_PAGE), queries.review_queue_size(session)


def to_review(ctx: Context, *, user: str, proposal_id: int) -> Proposal | Refused | AlreadyDecided | NotFound:
    """The decision a lead is about to write a coaching note on, if it still needs a review."""
    if not ctx.roster().is_lead(user):
        return Refused(ONLY_LEADS_REVIEW)
    with ctx.sessions.begin() as session:
        proposal = queries.get_proposal(session, proposal_id=proposal_id)
        decision = queries.decision_of(session, proposal_id=proposal_id)
    if proposal is None or decision is None:
        return NotFound()
    return AlreadyDecided(proposal) if decision.reviewed_at is not None else proposal


def review(
    ctx: Context, *, user: str, proposal_id: int, outcome: str, note: str | None = None
) -> Reviewed | Refused | AlreadyDecided | NotFound:
    """A lead reviews a decision once. "Let's talk" sends the agent a private coaching note."""
    if not ctx.roster().is_lead(user):
        return Refused(ONLY_LEADS_REVIEW)
    if outcome not in REVIEW_OUTCOMES:
        raise ValueError(outcome)
    note = check_reason(note)
    if outcome == "talk" and not note:
        raise InputError("Write a few words for the agent: what went well, and what to try next time.", "reason")
    now = ctx.clock()
    with ctx.sessions.begin() as session:
        proposal = queries.get_proposal(session, proposal_id=proposal_id)
        if proposal is None or queries.decision_of(session, proposal_id=proposal_id) is None:
            return NotFound()
        if not queries.record_review(session, proposal_id=proposal_id, at=now, by=user, outcome=outcome, note=note):
            return AlreadyDecided(proposal)
        queries.add_event(
            session, proposal_id=proposal_id, at=now, kind="reviewed", actor=user, detail={"outcome": outcome}
        )
        if outcome == "talk":
            queries.enqueue(
                session,
                kind=Kind.COACHING,
                channel=proposal.proposer,
                at=now,
                proposal_id=proposal_id,
                dedupe_key=f"{Kind.COACHING}:{proposal_id}",
            )
        queries.enqueue(session, kind=Kind.HOME, channel=user, at=now)
    ctx.wake_sender()
    return Reviewed(proposal, outcome)


# --- usage made visible -------------------------------------------------------------------------


def usage_between(ctx: Context, *, start: datetime, end: datetime) -> UsageReport:
    with ctx.sessions.begin() as session:
        rows = queries.granted_between(session, start=start, end=end)
    records = [
        GrantedRecord(
            proposer=p.proposer,
            agreed_by=d.agreed_by,
            tier=Tier(p.tier),
            amount=p.amount,
            unit=p.unit,
            fair=p.customer_fair,
            seconds_to_decision=d.seconds_to_decision,
        )
        for p, d in rows
    ]
    roster = ctx.roster()
    return usage_report(records, roster.agents, leads=roster.leads, start=start, end=end)


def usage(ctx: Context, *, user: str, days: int) -> UsageReport | Refused:
    if not ctx.roster().is_lead(user):
        return Refused(ONLY_LEADS_USAGE)
    end = ctx.clock()
    return usage_between(ctx, start=end - timedelta(days=days), end=end)


def weekly_sent(ctx: Context, *, week: str) -> bool:
    with ctx.sessions.begin() as session:
        return queries.outbox_has(session, dedupe_key=f"weekly:{week}:{ctx.policy.channels.kudos}")


def send_weekly(ctx: Context, *, week: str, digests: dict[str, str], celebration: str) -> int:
    """Queue the week's digest to each lead and the celebration; once per week, however many
    instances run the job (the dedupe keys make a second run a no-op)."""
    queued = 0
    for lead, text in [*digests.items(), (ctx.policy.channels.kudos, celebration)]:
        try:
            with ctx.sessions.begin() as session:
                queries.enqueue(
                    session,
                    kind=Kind.NOTICE,
                    channel=lead,
                    at=ctx.clock(),
                    detail={"text": text},
                    dedupe_key=f"weekly:{week}:{lead}",
                )
            queued += 1
        except IntegrityError:
            continue
    ctx.wake_sender()
    return queued


# --- the agent's home ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Home:
    user: str
    is_agent: bool
    is_lead: bool
    pending: list[Proposal]
    waiting: list[Proposal]
    recent: list[Proposal]
    kudos: int
    review: list[tuple[Proposal, Decision]]
    review_total: int
    week: UsageReport | None


HOME_LIST = 5


def home(ctx: Context, *, user: str) -> Home:
    roster, now = ctx.roster(), ctx.clock()
    is_lead = roster.is_lead(user)
    with ctx.sessions.begin() as session:
        pending = queries.pending_of(session, proposer=user)[:HOME_LIST]
        # Everything they may agree to, not only what they were asked: earlier people may still answer.
        waiting = [
            p
            for p in queries.pending_for_others(session, user=user, limit=HOME_LIST * 10)
            if authority.refusal(Tier(p.tier), roster, p.proposer, user) is None
        ][:HOME_LIST]
        recent = [p for p in queries.recent_of(session, user=user, limit=HOME_LIST * 2) if p.status != Status.PENDING][
            :HOME_LIST
        ]
        kudos = queries.kudos_count(session, user=user)
        review = queries.review_queue(session, limit=HOME_LIST) if is_lead else []
        review_total = queries.review_queue_size(session) if is_lead else 0
    week = usage_between(ctx, start=now - timedelta(days=7), end=now) if is_lead else None
    return Home(
        user=user,
        is_agent=roster.is_agent(user),
        is_lead=is_lead,
        pending=pending,
        waiting=waiting,
        recent=recent,
        kudos=kudos,
        review=review,
        review_total=review_total,
        week=week,
    )


def reask_if_away(ctx: Context, *, proposal: Proposal) -> Proposal:
    """Just before a held request is posted: if the person it names went away meanwhile, ask
    someone who is around instead (they are never pinged while away)."""
    now = ctx.clock()
    with ctx.sessions.begin() as session:
        away = queries.away_users(session, now=now)
        if proposal.asked not in away:
            return proposal
        queries.lock_routing(session)
        around = [u for u in authority.eligible(Tier(proposal.tier), ctx.roster(), proposal.proposer) if u not in away]
        chosen = authority.pick_peer(
            around, queries.open_asks(session, users=around), queries.last_asked(session, users=around)
        )
        if chosen is None or proposal.reroute_at is None:
            return proposal
        if queries.claim_reroute(
            session,
            proposal_id=proposal.id,
            was_due_at=proposal.reroute_at,
            asked=chosen,
            next_reroute_at=proposal.reroute_at,
        ):
            queries.add_event(
                session,
                proposal_id=proposal.id,
                at=now,
                kind="asked",
                actor=None,
                detail={"asked": chosen, "instead_of": proposal.asked},
            )
        fresh = queries.get_proposal(session, proposal_id=proposal.id)
    return fresh or proposal


def refresh_home(ctx: Context, *, user: str) -> None:
    """Queue a fresh render of the person's App Home (rendered from the database when sent)."""
    with ctx.sessions.begin() as session:
        queries.enqueue(session, kind=Kind.HOME, channel=user, at=ctx.clock())
    ctx.wake_sender()
