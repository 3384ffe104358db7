"""Propose: grant at once within the agent's own authority, or ask one peer or lead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy.exc import IntegrityError

from bot.core import authority
from bot.core.lifecycle import Event, Status
from bot.core.parsing import Draft, InputError
from bot.core.policy import Remedy, Tier
from bot.core.timing import add_working_time, next_open
from bot.core.vocabulary import OutboxKind, Via
from bot.services import records
from bot.services.context import Context
from bot.services.results import Asked, Granted, OutOfPolicy, ProposeResult, Refused
from bot.services.routing import whom_to_ask
from storage import batch, db, queries
from storage.batch import EventRow, NewProposal, Rows
from storage.models import Proposal


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
            asked = whom_to_ask(session, tier=tier, roster=roster, proposer=proposer, named=draft.peer, now=now)
            if isinstance(asked, Refused):
                return asked
            hours = ctx.policy.hours
            new = records.new_proposal(
                ctx,
                remedy,
                draft,
                status=Status.PENDING,
                tier=tier,
                proposer=proposer,
                origin_channel=origin_channel,
                source_key=source_key,
                now=now,
            )
            history = (
                records.proposed(now, proposer, tier, draft),
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
            # Outside working hours no one is pinged: the request waits for the day to begin.
            queries.enqueue(
                session,
                kind=OutboxKind.REQUEST,
                channel=ctx.policy.channels.requests,
                at=next_open(now, hours),
                proposal_id=proposal.id,
                dedupe_key=f"{OutboxKind.REQUEST}:{proposal.id}",
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
    new = records.new_proposal(
        ctx,
        remedy,
        draft,
        status=Status.GRANTED,
        tier=Tier.ALONE,
        proposer=proposer,
        origin_channel=origin_channel,
        source_key=source_key,
        now=now,
    )
    grant = records.grant_rows(
        ctx, tier=Tier.ALONE, proposer=proposer, created_at=now, approver=proposer, via=Via.ALONE, now=now
    )
    proposed = records.proposed(now, proposer, Tier.ALONE, draft)
    new = replace(new, decided_at=now, decided_by=proposer, rows=replace(grant, events=(proposed, *grant.events)))
    try:
        proposal_id = ctx.alone_grants.submit(new, lambda proposals: _write_together(ctx, proposals))
    except IntegrityError as error:
        return _already_recorded(ctx, source_key, error)
    records.count_grant(ctx, Tier.ALONE, seconds=0)
    ctx.wake_sender()
    return Granted(Proposal(id=proposal_id, **new.values()))


def _write_together(ctx: Context, proposals: Sequence[NewProposal]) -> list[int]:
    """Write a batch of grants, all or nothing, on a connection this use case owns."""
    with db.batch_connection(ctx.sessions) as connection:
        return batch.add_proposals(connection, proposals)


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
