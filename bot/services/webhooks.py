"""The events company systems are owed: one function owes them, inside the caller's transaction.

Every path that decides a proposal (a grant of any tier, a decline, an expiry, a withdrawal),
changes a limit, or records an outcome calls `owe` (or, for rows written in bulk with a new
proposal, `event_rows`), so the change and the events it owes commit together: a grant whose
event is lost is impossible, even across a crash. Only endpoints subscribed to the event's type
get a row; the webhook sender (bot.outbox.webhooks) delivers them.

An event's document is frozen when it is owed. A proposal written in bulk has no id yet then:
its rows carry none, and the sender fills it in from the row's proposal (the same every try)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.core.lifecycle import Status
from bot.core.policy import Tier, Webhook
from bot.core.vocabulary import CustomerOutcome, OutboxKind, Via, WebhookEvent
from bot.core.webhooks import EVENT_ID_PREFIX, event_document, money, timestamp
from bot.services.context import Context
from storage import queries
from storage.batch import NewProposal, OutboxRow, outbox_row
from storage.models import LimitChange, Proposal

# What an event of each status owes: a proposal that reached it.
FOR_STATUS = {
    Status.GRANTED: WebhookEvent.GRANTED,
    Status.DECLINED: WebhookEvent.DECLINED,
    Status.EXPIRED: WebhookEvent.EXPIRED,
    Status.WITHDRAWN: WebhookEvent.WITHDRAWN,
}


def owe(
    session: Session,
    ctx: Context,
    event: WebhookEvent,
    data: dict[str, Any],
    *,
    at: datetime,
    proposal_id: int | None = None,
) -> int:
    """Owe `event` to every endpoint subscribed to it, in the caller's transaction. Returns how
    many rows were written (0 with no endpoint subscribed)."""
    rows = event_rows(ctx, event, data, at=at)
    for row in rows:
        queries.enqueue(
            session, kind=row.kind, channel=row.channel, at=row.created_at, proposal_id=proposal_id, detail=row.detail
        )
    return len(rows)


def event_rows(ctx: Context, event: WebhookEvent, data: dict[str, Any], *, at: datetime) -> tuple[OutboxRow, ...]:
    """The outbox rows `event` owes, for a write that adds them itself (a new proposal's rows).
    Every endpoint gets the same event id, so a system behind two of them can tell it is one."""
    subscribed = subscribed_to(ctx, event)
    if not subscribed:
        return ()
    document = event_document(event_id=new_event_id(), event=event, created=at, data=data)
    return tuple(
        outbox_row(kind=OutboxKind.WEBHOOK, channel=webhook.key, at=at, detail={"event": document})
        for webhook in subscribed
    )


def subscribed_to(ctx: Context, event: WebhookEvent) -> list[Webhook]:
    """The endpoints that want `event`: with none, there is nothing to describe."""
    return [webhook for webhook in ctx.policy.webhooks if event in webhook.events]


def new_event_id() -> str:
    return EVENT_ID_PREFIX + uuid.uuid4().hex


def decided(session: Session, ctx: Context, proposal: Proposal, *, at: datetime, via: Via | None = None) -> int:
    """A proposal that was just declined, expired, withdrawn or granted (with `via`) owes its event."""
    data = {"proposal": proposal_data(proposal, proposal_id=proposal.id, via=via)}
    return owe(session, ctx, FOR_STATUS[Status(proposal.status)], data, at=at, proposal_id=proposal.id)


def granted_rows(
    ctx: Context, facts: Proposal | NewProposal, *, tier: Tier, approver: str | None, via: Via, at: datetime
) -> tuple[OutboxRow, ...]:
    """A grant's events, as rows for the write that records the grant (any tier)."""
    if not subscribed_to(ctx, WebhookEvent.GRANTED):
        return ()  # every grant comes here: with no endpoint for it, describe nothing
    proposal_id = facts.id if isinstance(facts, Proposal) else None
    data = proposal_data(
        facts, proposal_id=proposal_id, status=Status.GRANTED, tier=tier, decided_at=at, decided_by=approver, via=via
    )
    return event_rows(ctx, WebhookEvent.GRANTED, {"proposal": data}, at=at)


def proposal_data(
    proposal: Proposal | NewProposal,
    *,
    proposal_id: int | None,
    status: Status | None = None,
    tier: Tier | None = None,
    decided_at: datetime | None = None,
    decided_by: str | None = None,
    via: Via | None = None,
) -> dict[str, Any]:
    """The proposal as an event carries it (`id` None until the sender fills it in)."""
    decided_at = decided_at or proposal.decided_at
    return {
        "id": proposal_id,
        "status": str(status or proposal.status),
        "tier": str(tier or proposal.tier),
        "remedy": proposal.remedy_id,
        "remedy_label": proposal.remedy_label,
        "amount": money(proposal.amount),
        "unit": proposal.unit,
        "case": proposal.case_ref,
        "what_happened": proposal.summary,
        "fair": money(proposal.customer_fair),
        "proposer": proposal.proposer,
        "proposed_at": timestamp(proposal.created_at),
        "decided_at": timestamp(decided_at) if decided_at else None,
        "decided_by": decided_by or proposal.decided_by,
        "via": str(via) if via else None,
        # Who asked, for a proposal from one of the company's systems (None: made in Slack).
        "requested_by": str(proposal.requested_by) if proposal.requested_by else None,
        "integration": proposal.integration,
        "customer": (
            {"id": proposal.customer_id, "name": proposal.customer_name}
            if proposal.customer_id or proposal.customer_name
            else None
        ),
    }


def outcome_told(
    session: Session, ctx: Context, proposal: Proposal, *, outcome: CustomerOutcome, by: str, at: datetime
) -> int:
    data = {"proposal": proposal_data(proposal, proposal_id=proposal.id), "outcome": str(outcome), "told_by": by}
    return owe(session, ctx, WebhookEvent.OUTCOME, data, at=at, proposal_id=proposal.id)


def limit_changed(session: Session, ctx: Context, change: LimitChange) -> int:
    data = {
        "limit_change": {
            "id": change.id,
            "remedy": change.remedy_id,
            "kind": str(change.kind),
            "tier": str(change.tier) if change.tier else None,  # None: every limit back to the file's
            "person": change.person,  # set for a personal alone limit offered to one agent
            "from": money(change.from_amount),
            "to": money(change.to_amount),
            "by": change.by,
            "at": timestamp(change.at),
        }
    }
    return owe(session, ctx, WebhookEvent.LIMIT_CHANGED, data, at=change.at)
