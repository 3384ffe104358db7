"""The rows a change writes beside its state change: history, agreement, audit record, posts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.core import lifecycle
from bot.core.lifecycle import Event, Status
from bot.core.parsing import Draft
from bot.core.policy import Remedy, Tier
from bot.core.vocabulary import OutboxKind, Via
from bot.services import webhooks
from bot.services.context import Context
from storage import queries
from storage.batch import THIS_PROPOSAL, ApprovalRow, DecisionRow, EventRow, NewProposal, Rows, outbox_row
from storage.models import Proposal


def new_proposal(
    ctx: Context,
    remedy: Remedy,
    draft: Draft,
    *,
    status: Status,
    tier: Tier,
    proposer: str,
    origin_channel: str | None,
    source_key: str | None,
    now: datetime,
) -> NewProposal:
    """A new proposal's facts, all from the policy and the draft (never from a button's value)."""
    if draft.amount is None or draft.case_ref is None or draft.summary is None:
        raise ValueError(f"incomplete draft: {draft.missing}")
    return NewProposal(
        status=status,
        source_key=source_key,
        remedy_id=remedy.id,
        remedy_label=remedy.label,
        unit=ctx.policy.unit_of(remedy),
        amount=draft.amount,
        customer_fair=draft.fair,
        case_ref=draft.case_ref,
        summary=draft.summary,
        tier=tier,
        proposer=proposer,
        origin_channel=origin_channel,
        created_at=now,
    )


def proposed(at: datetime, proposer: str, tier: Tier, draft: Draft) -> EventRow:
    """The first line of every proposal's history."""
    return EventRow(at=at, kind=Event.PROPOSED, actor=proposer, detail={"tier": str(tier), "amount": str(draft.amount)})


def grant_rows(
    ctx: Context,
    *,
    facts: Proposal | NewProposal,
    tier: Tier,
    proposer: str,
    created_at: datetime,
    approver: str,
    via: Via,
    now: datetime,
) -> Rows:
    """What every grant owes: the agreement, the history, the audit record, the posts, and the
    events company systems subscribed to (`facts`: the proposal granted, as recorded so far)."""
    alone = via is Via.ALONE
    channels = ctx.policy.channels
    owed = [(OutboxKind.DECISION, channels.decisions), (OutboxKind.KUDOS, channels.kudos)]
    if not alone:
        owed += [(OutboxKind.REQUEST_UPDATE, channels.requests), (OutboxKind.PROPOSER_NOTE, proposer)]
    return Rows(
        approvals=(ApprovalRow(approver=approver, via=via, at=now),),
        events=(EventRow(at=now, kind=Event.GRANTED, actor=approver, detail={"via": via}),),
        decisions=(
            DecisionRow(
                tier=tier,
                agreed_by=None if alone else approver,
                granted_at=now,
                seconds_to_decision=max(0, int((now - created_at).total_seconds())),
            ),
        ),
        # One post of each kind per proposal; a request may be brought up to date more than once.
        outbox=(
            *(
                outbox_row(
                    kind=kind,
                    channel=channel,
                    at=now,
                    dedupe_key=None if kind is OutboxKind.REQUEST_UPDATE else f"{kind}:{THIS_PROPOSAL}",
                )
                for kind, channel in owed
            ),
            *webhooks.granted_rows(ctx, facts, tier=tier, approver=approver, via=via, at=now),
        ),
    )


def count_grant(ctx: Context, tier: Tier, *, seconds: int) -> None:
    ctx.metrics.outcome(tier, "granted")
    ctx.metrics.decided(tier, seconds)


def mark(proposal: Proposal, **values: Any) -> None:
    """Record what a conditional update changed on the loaded object, without another SELECT."""
    for name, value in values.items():
        set_committed_value(proposal, name, value)


def transition(session: Session, *, proposal_id: int, event: Event, **values: Any) -> bool:
    """The one conditional state change (`lifecycle`'s table as a WHERE): True only for the caller
    that made it, so two racing decisions decide once."""
    return queries.change_status(
        session,
        proposal_id=proposal_id,
        from_statuses=lifecycle.sources(event),
        to_status=lifecycle.target(event),
        **values,
    )


def owe_request_update(session: Session, ctx: Context, *, proposal_id: int, at: datetime) -> None:
    """The request message owes an update to its proposal's state (a request may be brought up
    to date more than once, so it has no dedupe key)."""
    queries.enqueue(
        session,
        kind=OutboxKind.REQUEST_UPDATE,
        channel=ctx.policy.channels.requests,
        at=at,
        proposal_id=proposal_id,
    )
