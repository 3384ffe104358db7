"""Propose: grant at once within the agent's own authority, or ask one peer or lead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core import authority
from bot.core.authority import Roster
from bot.core.budget import BudgetUse
from bot.core.encouragement import Precedent
from bot.core.lifecycle import Event, Status
from bot.core.parsing import Draft, InputError
from bot.core.policy import CaseSoFar, Remedy, Tier
from bot.core.timing import add_working_time, next_open
from bot.core.vocabulary import OutboxKind, Via
from bot.services import records
from bot.services.budget import spend_alone
from bot.services.context import Context
from bot.services.encouragement import precedent
from bot.services.results import Asked, Granted, OutOfPolicy, ProposeResult, Refused
from bot.services.routing import whom_to_ask
from storage import batch, db, queries
from storage.alone_grants import add_alone_grants
from storage.batch import EventRow, NewProposal, Rows
from storage.models import Proposal


def propose(
    ctx: Context,
    *,
    proposer: str,
    draft: Draft,
    origin_channel: str | None,
    source_key: str | None,
    through: records.Through | None = None,
) -> ProposeResult:
    """Record a complete draft: grant it at once in the alone tier, or ask one peer or lead.

    The tier is that of the amount together with what the case already has of the remedy,
    granted or waiting, within the policy's `case_window`: a limit can't be split across
    proposals. Raises InputError for a draft that names a person who may not agree."""
    roster = ctx.roster()
    why_not = authority.may_propose(roster, proposer)
    if why_not:
        return Refused(why_not)
    if not draft.complete:
        raise ValueError(f"incomplete draft: {draft.missing}")
    # The limits as they apply to this agent: the team's, or an alone limit a lead offered them.
    remedy = ctx.policy_for(proposer).remedy(draft.remedy_id or "")
    if remedy is None:
        raise InputError("Choose one of the remedies in your policy.", "remedy_id")
    assert draft.amount is not None
    assert draft.case_ref is not None
    assert draft.summary is not None
    tier = remedy.tier_for(draft.amount)
    if tier is Tier.OUT_OF_POLICY:  # too much on its own: what the case has can only add to it
        ctx.metrics.outcome(tier, "out_of_policy")
        return OutOfPolicy(remedy, draft.amount, draft.case_ref)
    new = records.new_proposal(
        ctx,
        remedy,
        draft,
        status=Status.PENDING,
        tier=tier,
        proposer=proposer,
        origin_channel=origin_channel,
        source_key=source_key,
        now=ctx.clock(),
        through=through,
    )
    # A remedy with an alone budget spends it under the case's lock, not in the batch.
    if tier is Tier.ALONE and remedy.alone_budget is None:
        granted = _grant_alone(ctx, _as_granted_alone(ctx, new, draft))
        if granted is not None:
            return granted
    try:
        return _propose_counting_the_case(ctx, remedy, new, draft, roster)
    except IntegrityError as error:  # a repeat of the same submission hits the unique source key
        return _already_recorded(ctx, source_key, error)


# Simultaneous proposals on one case must each count the others. Every path reads what the case
# has and writes its proposal in one transaction holding the case's lock (`queries.lock_cases`;
# on SQLite, the writer lock every write takes), so of two proposals on one case the second
# reads the first, on any instance. Grants within the agent's own authority still go through
# group commit: the batch (`storage.alone_grants`) locks its cases, reads them, and writes only
# the grants that still fit the alone limit, counting those before them in the batch, in one
# round trip on PostgreSQL; the others come back None and take `_propose_counting_the_case`,
# which decides their tier afresh. Deciding outside the lock whether a case is new would not do:
# two twins on a fresh case would both find it new. Locking only the cases in hand keeps
# proposals on different cases from waiting on each other.


def _grant_alone(ctx: Context, new: NewProposal) -> Granted | Asked | None:
    """Written with the grants arriving meanwhile (group commit); None when, with what its case
    already has, it no longer fits the alone limit."""
    try:
        proposal_id = ctx.alone_grants.submit(new, lambda proposals: write_alone_grants(ctx, proposals))
    except IntegrityError as error:
        return _already_recorded(ctx, new.source_key, error)
    if proposal_id is None:
        return None
    records.count_grant(ctx, Tier.ALONE, seconds=0)
    ctx.wake_sender()
    return Granted(batch.as_written(proposal_id, new.values()))


def write_alone_grants(ctx: Context, proposals: Sequence[NewProposal]) -> list[int | None]:
    """Write a batch of grants within the agents' own authority, all or nothing: each one only if
    it still fits the alone limit with what its case has (and the batch's grants before it on
    the same case). The ids, in order; None for each one left out.

    A submission Slack redelivered (the same source key, already recorded or twice in the
    batch) is left out too, so it costs the batch nothing: on its own it finds what the first
    one recorded. Written, it would fail the whole batch on the unique key, and every grant in
    it would then be written one by one."""
    limits = [_alone_limit(ctx, p.remedy_id, p.proposer or "") for p in proposals]
    since = min(p.created_at for p in proposals) - ctx.policy.case_window
    with db.batch_connection(ctx.sessions) as connection:
        return add_alone_grants(connection, proposals, alone_limits=limits, since=since)


def _alone_limit(ctx: Context, remedy_id: str, proposer: str) -> Decimal:
    remedy = ctx.policy_for(proposer).remedy(remedy_id)
    assert remedy is not None
    return remedy.alone_up_to


def _propose_counting_the_case(
    ctx: Context, remedy: Remedy, new: NewProposal, draft: Draft, roster: Roster
) -> ProposeResult:
    """Under the case's lock: the tier of the amount with what the case already has, then the
    grant, or the ask (under the routing lock too), or out of policy."""
    proposer = new.proposer
    assert proposer is not None, "an agent's own proposal"
    # Read before the locks are taken, so no one waits on it: how the team granted this remedy
    # lately, which the request carries (grants within an agent's own authority never come here
    # unless their case had too much for them).
    lately = precedent(ctx, remedy_id=remedy.id, now=ctx.clock())
    with ctx.sessions.begin() as session:
        now = ctx.clock()
        new = replace(new, created_at=now)
        case = [(remedy.id, new.case_ref)]
        queries.lock_cases(session, cases=case)
        (already,) = queries.so_far_on_cases(
            session,
            cases=case,
            since=now - ctx.policy.case_window,
            except_source_keys=[new.source_key] if new.source_key else (),
        )
        tier, over_budget = tier_in_case(session, ctx, remedy, proposer=proposer, amount=new.amount, already=already)
        if tier is Tier.OUT_OF_POLICY:
            ctx.metrics.outcome(tier, "out_of_policy")
            return OutOfPolicy(remedy, new.amount, new.case_ref, already)
        if tier is Tier.ALONE:  # what the case had shrank meanwhile (a decline, say)
            proposal = batch.add_proposal(session, _as_granted_alone(ctx, new, draft))
        else:
            asked = write_request(ctx, session, replace(new, tier=tier), draft, roster, now, lately)
            if isinstance(asked, Refused):
                return asked
            proposal = asked
    if tier is Tier.ALONE:
        records.count_grant(ctx, Tier.ALONE, seconds=0)
        ctx.wake_sender()
        return Granted(proposal)
    ctx.metrics.outcome(tier, "asked")
    ctx.wake_sender()
    return Asked(proposal, already, over_budget)


def tier_in_case(
    session: Session, ctx: Context, remedy: Remedy, *, proposer: str, amount: Decimal, already: CaseSoFar
) -> tuple[Tier, BudgetUse | None]:
    """The tier of an agent's proposal of `amount` on a case that has `already` (the caller holds
    the case's lock), and, within their own authority, their alone budget spent on it. Past
    that budget a peer (or a lead) agrees: the tier above alone, and the budget as it stands."""
    tier = remedy.tier_for(amount, already=already.total)
    if tier is not Tier.ALONE:
        return tier, None
    over_budget = spend_alone(session, ctx, remedy=remedy, proposer=proposer, amount=amount, now=ctx.clock())
    if over_budget is not None:  # past their budget for it: a peer agrees, kindly
        return remedy.tier_above_alone(amount, already=already.total), over_budget
    return tier, None


def write_request(
    ctx: Context,
    session: Session,
    new: NewProposal,
    draft: Draft,
    roster: Roster,
    now: datetime,
    lately: Precedent,
    *,
    proposed_detail: dict[str, str] | None = None,
) -> Proposal | Refused:
    """Choose whom to ask and write the request, with the post it owes and the precedent it
    carries (frozen now, so the post, its updates and the proposer's reply all say the same).
    A customer's request (no proposer) asks someone to take it up."""
    queries.lock_routing(session)
    asked = whom_to_ask(session, tier=new.tier, roster=roster, proposer=new.proposer, named=draft.peer, now=now)
    if isinstance(asked, Refused):
        return asked
    hours = ctx.policy.hours
    history = (
        records.proposed(now, new.proposer, new.tier, draft, detail=proposed_detail),
        EventRow(at=now, kind=Event.ASKED, actor=None, detail={"asked": asked}),
    )
    proposal = batch.add_proposal(
        session,
        replace(
            new,
            asked=asked,
            reroute_at=add_working_time(now, ctx.policy.reroute_after, hours),
            expire_at=add_working_time(now, ctx.policy.expire_after, hours),
            rows=Rows(events=history),
        ),
    )
    queries.set_precedent(session, proposal_id=proposal.id, count=lately.granted, median=lately.median)
    proposal.precedent_count, proposal.precedent_median = lately.granted, lately.median
    # Outside working hours no one is pinged: the request waits for the day to begin.
    queries.enqueue(
        session,
        kind=OutboxKind.REQUEST,
        channel=ctx.policy.channels.requests,
        at=next_open(now, hours),
        proposal_id=proposal.id,
        dedupe_key=f"{OutboxKind.REQUEST}:{proposal.id}",
    )
    return proposal


def _as_granted_alone(ctx: Context, new: NewProposal, draft: Draft) -> NewProposal:
    """Within the agent's own authority the new row is itself the grant: no one else can race
    for it, so it is stored granted, and the history still reads proposed → granted."""
    now, proposer = new.created_at, new.proposer
    assert proposer is not None, "an agent's own proposal"
    grant = records.grant_rows(
        ctx, facts=new, tier=Tier.ALONE, proposer=proposer, created_at=now, approver=proposer, via=Via.ALONE, now=now
    )
    proposed = records.proposed(now, proposer, Tier.ALONE, draft)
    rows = Rows((proposed, *grant.events), grant.approvals, grant.decisions, grant.outbox)
    return replace(new, status=Status.GRANTED, tier=Tier.ALONE, decided_at=now, decided_by=proposer, rows=rows)


def _already_recorded(ctx: Context, source_key: str | None, error: IntegrityError) -> Granted | Asked:
    """The same submission arrived twice at once; the other one recorded it."""
    if source_key:
        with db.reading(ctx.sessions) as session:
            existing = queries.proposal_by_source_key(session, key=source_key)
        if existing is not None:
            return Granted(existing) if existing.status == Status.GRANTED else Asked(existing)
    raise error


def draft_again(ctx: Context, *, proposal_id: int, user: str) -> Draft | Refused:
    """The proposer's own earlier proposal, as a draft to send again (facts from the database)."""
    with db.reading(ctx.sessions) as session:
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
