"""Propose: grant at once within the agent's own authority, or ask one peer or lead."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core import authority
from bot.core.authority import Roster
from bot.core.budget import BudgetUse
from bot.core.lifecycle import Status
from bot.core.parsing import Draft, InputError
from bot.core.policy import CaseSoFar, Remedy, Tier
from bot.core.vocabulary import Via
from bot.services import records
from bot.services.context import Context
from bot.services.encouragement import precedents
from bot.services.requesting import request_row, tier_in_case, write_request
from bot.services.results import Asked, Counted, Granted, OnItsCase, OutOfPolicy, ProposeResult, Refused
from bot.services.routing import Around
from storage import batch, db, queries
from storage.alone_grants import add_alone_grants
from storage.batch import NewProposal, Rows
from storage.queries.asking import before_asking

__all__ = ["draft_again", "propose", "tier_in_case", "write_alone_grants", "write_on_cases", "write_request"]


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
# which decides their tier afresh, in group commit too (`write_on_cases`): a batch takes its
# cases' locks and the routing lock once and decides each in order, counting those before it,
# so under load a request no longer pays for a transaction and a commit of its own under the
# routing lock, which every other request waits on. Deciding outside the lock whether a case is
# new would not do: two twins on a fresh case would both find it new. Locking only the cases in
# hand keeps proposals on different cases from waiting on each other.


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
    """Under the case's lock, with the proposals on cases arriving meanwhile (group commit,
    `write_on_cases`): the tier of the amount with what the case already has, then the grant,
    or the ask (under the routing lock too), or out of policy."""
    assert new.proposer is not None, "an agent's own proposal"
    item = OnItsCase(remedy=remedy, new=new, draft=draft, roster=roster)
    counted = ctx.on_cases.submit(item, lambda items: write_on_cases(ctx, items))
    result = counted.result
    if not counted.fresh:
        return result
    if isinstance(result, Granted):
        records.count_grant(ctx, Tier.ALONE, seconds=0)
    elif isinstance(result, Asked):
        ctx.metrics.outcome(Tier(result.proposal.tier), "asked")
    elif isinstance(result, OutOfPolicy):
        ctx.metrics.outcome(Tier.OUT_OF_POLICY, "out_of_policy")
    if isinstance(result, Granted | Asked):
        ctx.wake_sender()
    return result


def write_on_cases(ctx: Context, items: Sequence[OnItsCase]) -> list[Counted]:
    """Decide and write proposals that arrived together, in one transaction holding their cases'
    locks and the routing lock, each exactly as if it came alone
    after the ones before it: what its case has counts those of the batch before it on the
    same case, and whom it asks sees whom they asked. A submission recorded before, or earlier
    in the batch, is answered with that one and counts for nothing. Raises InputError for a
    request naming someone who can't be asked (the batch is then written one by one)."""
    # Read before the locks are taken, so no one waits on it, once for the batch: how the team
    # granted each remedy lately, which a request carries (grants within an agent's own
    # authority never come here unless their case had too much for them).
    lately = precedents(ctx, remedy_ids=[item.remedy.id for item in items], now=ctx.clock())
    with ctx.sessions.begin() as session:
        cases = list(dict.fromkeys(_case_of(item.new) for item in items))
        # Nearly every proposal here asks someone (one within the agent's authority comes here
        # when its case had too much, or to spend an alone budget): the routing lock with the
        # cases' then, in one round trip.
        routed = any(item.new.tier is not Tier.ALONE or item.remedy.alone_budget is None for item in items)
        queries.lock_cases(session, cases=cases, and_routing=routed)
        now = ctx.clock()
        read = before_asking(
            session,
            cases=cases,
            since=now - ctx.policy.case_window,
            keys={item.new.source_key for item in items if item.new.source_key},
            pools=_pools(items) if routed else [],
            picks=len(items) + 1,
            now=now,
        )
        so_far = dict(zip(cases, read.so_far, strict=True))
        counted, again = _recorded_before(session, items, read.recorded)
        around = None
        if routed:
            around = Around(read.away, read.open_asks, read.last_asked, shortlisted=read.shortlisted)
        written: list[_Written] = []
        for place, item in enumerate(items):
            if place in counted or place in again:
                continue
            now = ctx.clock()
            new, remedy, case = replace(item.new, created_at=now), item.remedy, _case_of(item.new)
            assert new.proposer is not None, "an agent's own proposal"
            already = so_far[case]
            tier, over_budget = tier_in_case(
                session, ctx, remedy, proposer=new.proposer, amount=new.amount, already=already
            )
            if tier is Tier.OUT_OF_POLICY:
                counted[place] = Counted(OutOfPolicy(remedy, new.amount, new.case_ref, already))
                continue
            if tier is Tier.ALONE:  # what the case had shrank meanwhile (a decline, say)
                written.append(_Written(place, _as_granted_alone(ctx, new, item.draft), already, None))
                so_far[case] = replace(already, granted=already.granted + new.amount)
                continue
            if around is None:  # whom to ask: read under the routing lock
                queries.lock_routing(session)
                people = dict.fromkeys(person for item in items for person in item.roster.everyone())
                around = Around.read(session, people=people, now=now)
            new = replace(new, tier=tier)
            asked = around.whom_to_ask(tier=tier, roster=item.roster, proposer=new.proposer, named=item.draft.peer)
            if isinstance(asked, Refused):
                counted[place] = Counted(asked)
                continue
            around.asked(asked, at=now)
            request = request_row(ctx, new, item.draft, asked=asked, now=now, lately=lately[remedy.id])
            written.append(_Written(place, request, already, over_budget))
            so_far[case] = replace(already, waiting=already.waiting + new.amount)
        ids = batch.add_proposals(session.connection(), [each.row for each in written])
        for each, proposal_id in zip(written, ids, strict=True):
            proposal = batch.as_written(proposal_id, each.row.values())
            answer = Granted(proposal) if each.row.asked is None else Asked(proposal, each.already, each.over_budget)
            counted[each.place] = Counted(answer)
    for place, first in again.items():
        counted[place] = replace(counted[first], fresh=False)
    return [counted[place] for place in range(len(items))]


@dataclass(frozen=True)
class _Written:
    place: int  # in the batch
    row: NewProposal
    already: CaseSoFar  # what its case had before it
    over_budget: BudgetUse | None


def _pools(items: Sequence[OnItsCase]) -> list[tuple[str, ...]]:
    """Everyone each request may ask, before it passes over its proposer: the roster's people
    and its leads but Leeway itself (`authority.eligible`), of each roster the batch came with."""
    rosters = dict.fromkeys(item.roster for item in items)
    return list(
        dict.fromkeys(
            tuple(u for u in pool if u != roster.bot_user)
            for roster in rosters
            for pool in (roster.everyone(), roster.leads)
        )
    )


def _case_of(new: NewProposal) -> tuple[str, str]:
    return (new.remedy_id, new.case_ref.lower())


def _recorded_before(
    session: Session, items: Sequence[OnItsCase], recorded: Collection[str]
) -> tuple[dict[int, Counted], dict[int, int]]:
    """Submissions Slack redelivered: by place, the answers of those `recorded` before (what
    that one recorded), and the place of the first of each repeated within the batch."""
    answers: dict[int, Counted] = {}
    again: dict[int, int] = {}
    first: dict[str, int] = {}
    for place, item in enumerate(items):
        key = item.new.source_key
        if key is None:
            continue
        if key in recorded:
            existing = queries.proposal_by_source_key(session, key=key)
            assert existing is not None, "recorded, and read under the cases' locks"
            answer = Granted(existing) if existing.status == Status.GRANTED else Asked(existing)
            answers[place] = Counted(answer, fresh=False)
        elif key in first:
            again[place] = first[key]
        else:
            first[key] = place
    return answers, again


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
