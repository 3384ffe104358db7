"""Use cases. Each owns one transaction, commits the state change together with the
messages it owes Slack (the outbox), and returns what to tell the person who acted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.core import authority, lifecycle
from bot.core.authority import Roster
from bot.core.lifecycle import Event, Status
from bot.core.parsing import Draft, InputError, check_reason
from bot.core.policy import Policy, Remedy, Tier
from storage import queries
from storage.models import Proposal


class Kind:
    """What an outbox message is; the sender renders it from the proposal's state."""

    REQUEST = "request"                # the ask, in the requests channel
    REQUEST_UPDATE = "request_update"  # the ask, brought up to date
    DECISION = "decision"              # the audit record, in the decisions channel
    KUDOS = "kudos"                    # the celebration, in the kudos channel
    PROPOSER_NOTE = "proposer_note"    # private word to the proposer about the outcome
    EPHEMERAL = "ephemeral"            # a private line to one person in a channel
    NOTICE = "notice"                  # a direct message with given text


@dataclass(frozen=True)
class Context:
    policy: Policy
    roster: Callable[[], Roster]
    sessions: sessionmaker[Session]
    clock: Clock
    wake_sender: Callable[[], None] = lambda: None


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


ProposeResult = Granted | Asked | OutOfPolicy | Refused
AgreeResult = Granted | Refused | AlreadyDecided | NotFound
DeclineResult = Declined | Refused | AlreadyDecided | NotFound


# --- propose ---------------------------------------------------------------------------------

def propose(ctx: Context, *, proposer: str, draft: Draft, origin_channel: str | None,
            source_key: str | None) -> ProposeResult:
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
        return OutOfPolicy(remedy, draft.amount)

    try:
        with ctx.sessions.begin() as session:
            if source_key and (existing := queries.proposal_by_source_key(session, key=source_key)):
                return _result_of(existing)
            asked = None if tier is Tier.ALONE else _whom_to_ask(session, tier, roster, proposer, draft.peer)
            if isinstance(asked, Refused):
                return asked
            now = ctx.clock()
            proposal = queries.add_proposal(
                session, source_key=source_key, status=Status.PENDING, remedy_id=remedy.id,
                remedy_label=remedy.label, unit=ctx.policy.unit_of(remedy), amount=draft.amount,
                customer_fair=draft.fair, case_ref=draft.case_ref, summary=draft.summary, tier=tier,
                proposer=proposer, asked=asked, origin_channel=origin_channel, created_at=now)
            queries.add_event(session, proposal_id=proposal.id, at=now, kind="proposed", actor=proposer,
                              detail={"tier": str(tier), "amount": str(draft.amount)})
            if tier is Tier.ALONE:
                _grant(session, ctx, proposal, approver=proposer, via="alone")
                result: ProposeResult = Granted(proposal)
            else:
                assert asked is not None
                queries.add_event(session, proposal_id=proposal.id, at=now, kind="asked", actor=None,
                                  detail={"asked": asked})
                queries.enqueue(session, kind=Kind.REQUEST, channel=ctx.policy.channels.requests, at=now,
                                proposal_id=proposal.id, dedupe_key=f"{Kind.REQUEST}:{proposal.id}")
                result = Asked(proposal)
    except IntegrityError:
        # The same submission arrived twice at once; the other one recorded it.
        if not source_key:
            raise
        with ctx.sessions.begin() as session:
            existing = queries.proposal_by_source_key(session, key=source_key)
            if existing is None:
                raise
            return _result_of(existing)
    ctx.wake_sender()
    return result


def _result_of(proposal: Proposal) -> Granted | Asked:
    return Granted(proposal) if proposal.status == Status.GRANTED else Asked(proposal)


def _whom_to_ask(session: Session, tier: Tier, roster: Roster, proposer: str,
                 named: str | None) -> str | Refused:
    if named is not None:
        why_not = authority.refusal(tier, roster, proposer, named)
        if why_not:
            who = "you" if named == proposer else f"<@{named}>"
            raise InputError(f"Leeway can't ask {who} to agree to this: {why_not} "
                             "Leave the mention out and Leeway picks someone who can.", "peer")
        return named
    candidates = authority.eligible(tier, roster, proposer)
    chosen = authority.pick_peer(candidates, queries.open_asks(session, users=candidates),
                                 queries.last_asked(session, users=candidates))
    if chosen is None:
        who = "lead" if tier is Tier.LEAD else "agent or lead"
        return Refused(f"There's no other {who} in Leeway's policy who could agree to this, so it "
                       "can't be routed. Ask a lead to add people under `people` in the policy.")
    return chosen


# --- agree / decline -------------------------------------------------------------------------

def agree(ctx: Context, *, proposal_id: int, user: str, via: str) -> AgreeResult:
    """`user` agrees: the first valid agreement grants; every later one finds it decided."""
    roster = ctx.roster()
    with ctx.sessions.begin() as session:
        proposal = queries.get_proposal(session, proposal_id=proposal_id)
        if proposal is None:
            return NotFound()
        why_not = authority.refusal(Tier(proposal.tier), roster, proposal.proposer, user)
        if why_not:
            return Refused(why_not)
        if proposal.status != Status.PENDING:
            return AlreadyDecided(proposal)
        if not _grant(session, ctx, proposal, approver=user, via=via):
            session.refresh(proposal)  # the winner changed it: report what it is now
            return AlreadyDecided(proposal)
    ctx.wake_sender()
    return Granted(proposal)


def agree_by_reaction(ctx: Context, *, channel: str, ts: str, user: str, reaction: str) -> AgreeResult | None:
    """A ✅ on a request message agrees; anything else about reactions is ignored, silently."""
    if not authority.is_agreement_reaction(reaction):
        return None
    with ctx.sessions.begin() as session:
        proposal = queries.proposal_by_request_message(session, channel=channel, ts=ts)
        if proposal is None:
            return None
        proposal_id = proposal.id
    return agree(ctx, proposal_id=proposal_id, user=user, via="reaction")


def may_decide(ctx: Context, *, proposal_id: int, user: str) -> Proposal | Refused | AlreadyDecided | NotFound:
    """Check before opening the decline form, so no one fills it in for nothing."""
    with ctx.sessions.begin() as session:
        proposal = queries.get_proposal(session, proposal_id=proposal_id)
        if proposal is None:
            return NotFound()
        why_not = authority.refusal(Tier(proposal.tier), ctx.roster(), proposal.proposer, user)
        if why_not:
            return Refused(why_not)
        if proposal.status != Status.PENDING:
            return AlreadyDecided(proposal)
        return proposal


def decline(ctx: Context, *, proposal_id: int, user: str, reason: str | None) -> DeclineResult:
    """Declines are private: the proposer hears why; the request just reads "closed"."""
    reason = check_reason(reason)
    roster = ctx.roster()
    with ctx.sessions.begin() as session:
        proposal = queries.get_proposal(session, proposal_id=proposal_id)
        if proposal is None:
            return NotFound()
        why_not = authority.refusal(Tier(proposal.tier), roster, proposal.proposer, user)
        if why_not:
            return Refused(why_not)
        now = ctx.clock()
        changed = queries.change_status(
            session, proposal_id=proposal.id, from_statuses=lifecycle.sources(Event.DECLINE),
            to_status=lifecycle.target(Event.DECLINE), decided_at=now, decided_by=user, decline_reason=reason)
        if not changed:
            session.refresh(proposal)  # the winner changed it: report what it is now
            return AlreadyDecided(proposal)
        queries.add_event(session, proposal_id=proposal.id, at=now, kind="declined", actor=user,
                          detail={"reason": reason} if reason else {})
        queries.enqueue(session, kind=Kind.REQUEST_UPDATE, channel=ctx.policy.channels.requests, at=now,
                        proposal_id=proposal.id)
        queries.enqueue(session, kind=Kind.PROPOSER_NOTE, channel=proposal.proposer, at=now,
                        proposal_id=proposal.id, dedupe_key=f"{Kind.PROPOSER_NOTE}:{proposal.id}")
        session.refresh(proposal)
    ctx.wake_sender()
    return Declined(proposal)


def _grant(session: Session, ctx: Context, proposal: Proposal, *, approver: str, via: str) -> bool:
    """The single conditional state change that grants, plus everything a grant owes."""
    now = ctx.clock()
    changed = queries.change_status(
        session, proposal_id=proposal.id, from_statuses=lifecycle.sources(Event.GRANT),
        to_status=lifecycle.target(Event.GRANT), decided_at=now, decided_by=approver)
    if not changed:
        return False
    alone = via == "alone"
    seconds = max(0, int((now - proposal.created_at).total_seconds()))
    queries.add_approval(session, proposal_id=proposal.id, approver=approver, via=via, at=now)
    queries.add_event(session, proposal_id=proposal.id, at=now, kind="granted", actor=approver,
                      detail={"via": via})
    queries.add_decision(session, proposal_id=proposal.id, tier=proposal.tier,
                         agreed_by=None if alone else approver, granted_at=now, seconds_to_decision=seconds)
    channels = ctx.policy.channels
    owed = [(Kind.DECISION, channels.decisions), (Kind.KUDOS, channels.kudos)]
    if not alone:
        owed += [(Kind.REQUEST_UPDATE, channels.requests), (Kind.PROPOSER_NOTE, proposal.proposer)]
    for kind, channel in owed:
        key = None if kind == Kind.REQUEST_UPDATE else f"{kind}:{proposal.id}"
        queries.enqueue(session, kind=kind, channel=channel, at=now, proposal_id=proposal.id, dedupe_key=key)
    session.refresh(proposal)
    return True


# --- private lines -----------------------------------------------------------------------------

def tell(ctx: Context, *, user: str, text: str, channel: str | None = None) -> None:
    """Queue a private line to one person: ephemeral in `channel`, else a direct message."""
    with ctx.sessions.begin() as session:
        if channel:
            queries.enqueue(session, kind=Kind.EPHEMERAL, channel=channel, user=user, at=ctx.clock(),
                            detail={"text": text})
        else:
            queries.enqueue(session, kind=Kind.NOTICE, channel=user, at=ctx.clock(), detail={"text": text})
    ctx.wake_sender()
