"""Taking up a customer's request: the first eligible agent who takes it (Take it, or ✅) becomes
its proposer. Within their own authority it is granted at once; above it, it goes on to a peer or
a lead exactly as their own `/remedy` would."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.core import authority
from bot.core.encouragement import Precedent
from bot.core.lifecycle import Event, Status
from bot.core.policy import Tier
from bot.core.timing import add_working_time
from bot.core.vocabulary import Via
from bot.services import records
from bot.services.context import Context
from bot.services.encouragement import precedent
from bot.services.requesting import tier_in_case
from bot.services.results import (
    AlreadyDecided,
    AlreadyTaken,
    Asked,
    Granted,
    NotFound,
    OutOfPolicy,
    Refused,
    TakeResult,
)
from bot.services.routing import whom_to_ask
from storage import db, queries
from storage.models import Proposal


def take_up(ctx: Context, *, proposal_id: int, user: str, via: Via) -> TakeResult:
    """`user` takes up a customer's request: its own transaction."""
    with db.reading(ctx.sessions) as session:
        found = queries.get_proposal(session, proposal_id=proposal_id)
    if found is None:
        return NotFound()
    # Read before the locks are taken, as a proposal's is: what the request carries if it asks.
    lately = precedent(ctx, remedy_id=found.remedy_id, now=ctx.clock())
    with ctx.sessions.begin() as session:
        result = take_up_in(session, ctx, proposal_id=proposal_id, user=user, via=via, lately=lately)
    if isinstance(result, Granted | Asked):
        ctx.wake_sender()
    return result


def take_up_in(
    session: Session, ctx: Context, *, proposal_id: int, user: str, via: Via, lately: Precedent | None = None
) -> TakeResult:
    """Within the caller's transaction. Who takes it is decided by one conditional update (no
    proposer yet, still pending), under the case's lock, so of two agents at once one wins."""
    why_not = authority.may_take_up(ctx.roster(), user)
    if why_not:
        return Refused(why_not)
    proposal = queries.get_proposal(session, proposal_id=proposal_id)
    if proposal is None:
        return NotFound()
    case = [(proposal.remedy_id, proposal.case_ref)]
    queries.lock_cases(session, cases=case)
    proposal = queries.get_proposal(session, proposal_id=proposal_id)  # as the lock's holder sees it
    assert proposal is not None
    if proposal.status != Status.PENDING:
        return AlreadyDecided(proposal)
    if proposal.proposer is not None:
        return AlreadyTaken(proposal)
    # The limits as they apply to this agent, as their own /remedy would read them.
    remedy = ctx.policy_for(user).remedy(proposal.remedy_id)
    if remedy is None:
        return Refused(f"{proposal.remedy_label} is no longer in Leeway's policy, so it can't be taken up.")
    now = ctx.clock()
    (already,) = queries.so_far_on_cases(
        session,
        cases=case,
        since=now - ctx.policy.case_window,
        except_source_keys=[proposal.source_key] if proposal.source_key else (),
    )
    if remedy.tier_for(proposal.amount, already=already.total) is Tier.OUT_OF_POLICY:
        return OutOfPolicy(remedy, proposal.amount, proposal.case_ref, already)
    if not queries.take_up(session, proposal_id=proposal.id, proposer=user):
        session.refresh(proposal)
        return AlreadyTaken(proposal)
    waiting_tier = Tier(proposal.tier)
    records.mark(proposal, proposer=user)
    tier, over_budget = tier_in_case(session, ctx, remedy, proposer=user, amount=proposal.amount, already=already)
    if tier is Tier.ALONE:
        _taken(session, proposal, user=user, via=via, at=now)
        _set(session, proposal, tier=tier)
        granted = records.grant(session, ctx, proposal, approver=user, via=Via.ALONE, request_posted=True)
        assert granted, "the taker holds it: no one else can decide it meanwhile"
        return Granted(proposal)
    queries.lock_routing(session)
    asked = whom_to_ask(session, tier=tier, roster=ctx.roster(), proposer=user, named=None, now=now)
    if isinstance(asked, Refused):
        # Back to waiting for someone else, as if never taken (who was asked to take it up stands).
        _set(session, proposal, proposer=None, tier=waiting_tier)
        return asked
    _taken(session, proposal, user=user, via=via, at=now)
    hours = ctx.policy.hours
    _set(
        session,
        proposal,
        tier=tier,
        asked=asked,
        # Its clocks start again, as for a request just made.
        reroute_at=add_working_time(now, ctx.policy.reroute_after, hours),
        expire_at=add_working_time(now, ctx.policy.expire_after, hours),
    )
    queries.add_event(session, proposal_id=proposal.id, at=now, kind=Event.ASKED, actor=None, detail={"asked": asked})
    if lately is not None:  # how the team granted it lately, frozen now as for any request
        queries.set_precedents(session, [(proposal.id, lately.granted, lately.median)])
        records.mark(proposal, precedent_count=lately.granted, precedent_median=lately.median)
    records.owe_request_update(session, ctx, proposal_id=proposal.id, at=now)
    ctx.metrics.outcome(tier, "asked")
    return Asked(proposal, already, over_budget)


def _taken(session: Session, proposal: Proposal, *, user: str, via: Via, at: datetime) -> None:
    queries.add_event(session, proposal_id=proposal.id, at=at, kind=Event.TAKEN, actor=user, detail={"via": via})


def _set(session: Session, proposal: Proposal, **values: Any) -> None:
    queries.set_proposal(session, proposal_id=proposal.id, **values)
    records.mark(proposal, **values)
