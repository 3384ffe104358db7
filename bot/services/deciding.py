"""Deciding a pending request: agree (the first valid agreement grants, by button or reaction,
including a reaction kept from before its request's ts was known), decline, withdraw."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from bot.core import authority
from bot.core.lifecycle import Event, Status
from bot.core.parsing import check_reason
from bot.core.policy import Tier
from bot.core.vocabulary import OutboxKind, Via
from bot.services import records, taking, webhooks
from bot.services.context import Context
from bot.services.results import (
    AgreeResult,
    AlreadyDecided,
    Asked,
    Declined,
    DeclineResult,
    Granted,
    NotFound,
    Refused,
    Withdrawn,
    WithdrawResult,
)
from storage import db, queries
from storage.models import Proposal

# A kept reaction that has matched no request in this long was on some other message.
KEEP_EARLY_REACTIONS = timedelta(hours=1)


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


def agree(ctx: Context, *, proposal_id: int, user: str, via: Via) -> AgreeResult:
    """`user` agrees: the first valid agreement grants; every later one finds it decided."""
    with ctx.sessions.begin() as session:
        result = _agree(session, ctx, proposal_id=proposal_id, user=user, via=via)
    if isinstance(result, Granted | Asked):
        ctx.wake_sender()
    return result


def _agree(session: Session, ctx: Context, *, proposal_id: int, user: str, via: Via) -> AgreeResult:
    waiting = queries.get_proposal(session, proposal_id=proposal_id)
    if waiting is not None and waiting.status == Status.PENDING and waiting.proposer is None and via is Via.REACTION:
        # A ✅ on a customer's request no one has taken up yet takes it up. (Such a request has no
        # Approve button: a click on one is forged or stale, and is refused below.)
        return taking.take_up_in(session, ctx, proposal_id=proposal_id, user=user, via=via)
    proposal = _decidable(session, ctx, proposal_id=proposal_id, user=user)
    if not isinstance(proposal, Proposal):
        return proposal
    if not records.grant(session, ctx, proposal, approver=user, via=via):
        session.refresh(proposal)  # the winner changed it: report what it is now
        return AlreadyDecided(proposal)
    return Granted(proposal)


def agree_by_reaction(ctx: Context, *, channel: str, ts: str, user: str, reaction: str) -> AgreeResult | None:
    """A ✅ on a request message agrees; anything else about reactions is ignored, silently.

    Slack may deliver a ✅ before its answer to the request's post, which carries the ts, has
    been recorded. Such a reaction, made where a request is being posted, is kept, and counts
    when the ts is recorded (see `reactions_to_request`). Elsewhere, with no request on its way,
    the ✅ can't be on a request of ours: it is ignored without a write."""
    if not authority.is_agreement_reaction(reaction):
        return None
    with db.reading(ctx.sessions) as session:
        # This order matters under READ COMMITTED, where each statement sees its own snapshot:
        # a request already marked sent here has its ts committed for the lookup after it.
        being_posted = queries.request_being_posted(session, channel=channel)
        proposal = queries.proposal_by_request_message(session, channel=channel, ts=ts)
        found = proposal.id if proposal is not None else None
    # Agree in a transaction of its own, after the lookup's has ended.
    if found is not None:
        return agree(ctx, proposal_id=found, user=user, via=Via.REACTION)
    if not being_posted:
        return None  # not a request of ours at all
    with ctx.sessions.begin() as session:
        queries.keep_reaction(session, channel=channel, ts=ts, user=user, reaction=reaction, at=ctx.clock())
    # Look again now that it is committed: the sender may have recorded the ts since the lookup
    # and looked for kept reactions before this one was there. Whichever looks last finds both.
    return reactions_to_request(ctx, channel=channel, ts=ts).get(user)


def reactions_to_request(ctx: Context, *, channel: str, ts: str) -> dict[str, AgreeResult]:
    """Apply the reactions kept for the message at `channel`/`ts`, if it is now known as a
    request: each is an agreement by reaction, first come first, exactly as if it had arrived
    now. Taking them deletes them, so of everyone who calls this at once (the sender that
    recorded the ts, the listener that kept one, the schedule, any instance) each reaction is
    applied by one. Returns each reacting user's result."""
    with db.reading(ctx.sessions) as session:
        if not queries.has_kept_reactions(session, channel=channel, ts=ts):
            return {}  # the usual case, answered without a write
    with ctx.sessions.begin() as session:
        proposal = queries.proposal_by_request_message(session, channel=channel, ts=ts)
        if proposal is None:
            return {}
        users = queries.take_reactions(session, channel=channel, ts=ts)
        results = {user: _agree(session, ctx, proposal_id=proposal.id, user=user, via=Via.REACTION) for user in users}
    if any(isinstance(result, Granted | Asked) for result in results.values()):
        ctx.wake_sender()
    return results


def early_reactions_due(ctx: Context) -> tuple[int, int]:
    """Apply the kept reactions whose request has been recorded without them being applied (the
    process stopped in between), and forget those that never matched a request. Returns how
    many requests had reactions applied, and how many reactions were forgotten."""
    before = ctx.clock() - KEEP_EARLY_REACTIONS
    with db.reading(ctx.sessions) as session:
        matched = queries.reacted_requests(session)
        stale = queries.has_reactions_before(session, before=before)
    applied = sum(1 for channel, ts in matched if reactions_to_request(ctx, channel=channel, ts=ts))
    if not stale:
        return applied, 0
    with ctx.sessions.begin() as session:
        return applied, queries.prune_reactions(session, before=before)


def may_decide(ctx: Context, *, proposal_id: int, user: str) -> Proposal | Refused | AlreadyDecided | NotFound:
    """Check before opening the decline form, so no one fills it in for nothing."""
    with db.reading(ctx.sessions) as session:
        return _decidable(session, ctx, proposal_id=proposal_id, user=user)


def decline(ctx: Context, *, proposal_id: int, user: str, reason: str | None) -> DeclineResult:
    """Declines are private: the proposer hears why; the request just reads "closed"."""
    reason = check_reason(reason)
    with ctx.sessions.begin() as session:
        proposal = _decidable(session, ctx, proposal_id=proposal_id, user=user)
        if not isinstance(proposal, Proposal):
            return proposal
        now = ctx.clock()
        changed = records.transition(
            session,
            proposal_id=proposal.id,
            event=Event.DECLINED,
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
            kind=Event.DECLINED,
            actor=user,
            detail={"reason": reason} if reason else {},
        )
        assert proposal.proposer is not None, "a customer's request is taken up before anyone decides it"
        ctx.metrics.outcome(proposal.tier, "declined")
        records.owe_request_update(session, ctx, proposal_id=proposal.id, at=now)
        queries.enqueue(
            session,
            kind=OutboxKind.PROPOSER_NOTE,
            channel=proposal.proposer,
            at=now,
            proposal_id=proposal.id,
            dedupe_key=f"{OutboxKind.PROPOSER_NOTE}:{proposal.id}",
        )
        records.mark(proposal, status=Status.DECLINED, decided_at=now, decided_by=user, decline_reason=reason)
        webhooks.decided(session, ctx, proposal, at=now)
    ctx.wake_sender()
    return Declined(proposal)


def withdraw(ctx: Context, *, user: str, proposal_id: int | None = None, case_ref: str | None = None) -> WithdrawResult:
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
        if not records.transition(
            session,
            proposal_id=proposal_id,
            event=Event.WITHDRAWN,
            decided_at=now,
            decided_by=user,
            reroute_at=None,
        ):
            session.refresh(proposal)
            return AlreadyDecided(proposal)
        queries.add_event(session, proposal_id=proposal_id, at=now, kind=Event.WITHDRAWN, actor=user)
        ctx.metrics.outcome(proposal.tier, "withdrawn")
        records.owe_request_update(session, ctx, proposal_id=proposal_id, at=now)
        records.mark(proposal, status=Status.WITHDRAWN, decided_at=now, decided_by=user, reroute_at=None)
        webhooks.decided(session, ctx, proposal, at=now)
    ctx.wake_sender()
    return Withdrawn(proposal)
