"""A request as it is written: its tier with what its case has, whom it asks, and its rows.

One request at a time (`write_request`: a customer's, or one taken up) or several in one
transaction (`services.proposing.write_on_cases`), from the same pieces."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from bot.core.authority import Roster
from bot.core.budget import BudgetUse
from bot.core.encouragement import Precedent
from bot.core.lifecycle import Event
from bot.core.parsing import Draft
from bot.core.policy import CaseSoFar, Remedy, Tier
from bot.core.timing import add_working_time, next_open
from bot.core.vocabulary import OutboxKind
from bot.services import records
from bot.services.budget import spend_alone
from bot.services.context import Context
from bot.services.results import Refused
from bot.services.routing import whom_to_ask
from storage import batch, queries
from storage.batch import THIS_PROPOSAL, EventRow, NewProposal, Rows, outbox_row
from storage.models import Proposal


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


def request_row(
    ctx: Context,
    new: NewProposal,
    draft: Draft,
    *,
    asked: str,
    now: datetime,
    lately: Precedent,
    proposed_detail: dict[str, str] | None = None,
) -> NewProposal:
    """The request asking `asked`, with its history, the post it owes, and the precedent it
    carries (frozen when it was made, so the post, its updates and the proposer's reply all say
    the same). Outside working hours no one is pinged: the post waits for the day to begin."""
    hours = ctx.policy.hours
    history = (
        records.proposed(now, new.proposer, new.tier, draft, detail=proposed_detail),
        EventRow(at=now, kind=Event.ASKED, actor=None, detail={"asked": asked}),
    )
    post = outbox_row(
        kind=OutboxKind.REQUEST,
        channel=ctx.policy.channels.requests,
        at=next_open(now, hours),
        dedupe_key=f"{OutboxKind.REQUEST}:{THIS_PROPOSAL}",
    )
    return replace(
        new,
        asked=asked,
        reroute_at=add_working_time(now, ctx.policy.reroute_after, hours),
        expire_at=add_working_time(now, ctx.policy.expire_after, hours),
        precedent_count=lately.granted,
        precedent_median=lately.median,
        rows=Rows(events=history, outbox=(post,)),
    )


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
    carries. A customer's request (no proposer) asks someone to take it up."""
    queries.lock_routing(session)
    asked = whom_to_ask(session, tier=new.tier, roster=roster, proposer=new.proposer, named=draft.peer, now=now)
    if isinstance(asked, Refused):
        return asked
    return batch.add_proposal(
        session, request_row(ctx, new, draft, asked=asked, now=now, lately=lately, proposed_detail=proposed_detail)
    )
