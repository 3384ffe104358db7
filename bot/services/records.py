"""The rows a change writes beside its state change: history, agreement, audit record, posts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.core import lifecycle
from bot.core.lifecycle import Event, Status
from bot.core.parsing import Draft
from bot.core.policy import Remedy, Tier
from bot.core.timing import working_seconds_between
from bot.core.vocabulary import OutboxKind, RequestedBy, Via
from bot.services import webhooks
from bot.services.context import Context
from storage import batch, queries
from storage.batch import THIS_PROPOSAL, ApprovalRow, DecisionRow, EventRow, NewProposal, OutboxRow, Rows, outbox_row
from storage.models import Proposal


@dataclass(frozen=True)
class Through:
    """Who asked, for a proposal from one of the company's own systems (`services.product`)."""

    requested_by: RequestedBy
    integration: str
    customer_id: str | None = None
    customer_name: str | None = None

    def columns(self) -> dict[str, Any]:
        return {
            "requested_by": self.requested_by,
            "integration": self.integration,
            "customer_id": self.customer_id,
            "customer_name": self.customer_name,
        }

    def history(self) -> dict[str, str]:
        """What the first line of its history says of it."""
        return {"requested_by": str(self.requested_by), "integration": self.integration}


def new_proposal(
    ctx: Context,
    remedy: Remedy,
    draft: Draft,
    *,
    status: Status,
    tier: Tier,
    proposer: str | None,
    origin_channel: str | None,
    source_key: str | None,
    now: datetime,
    through: Through | None = None,
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
        **(through.columns() if through else {}),
    )


def proposed(
    at: datetime, proposer: str | None, tier: Tier, draft: Draft, *, detail: dict[str, Any] | None = None
) -> EventRow:
    """The first line of every proposal's history (no actor: a customer's request)."""
    said = {"tier": str(tier), "amount": str(draft.amount), **(detail or {})}
    return EventRow(at=at, kind=Event.PROPOSED, actor=proposer, detail=said)


def grant_rows(
    ctx: Context,
    *,
    facts: Proposal | NewProposal,
    tier: Tier,
    proposer: str | None,
    created_at: datetime,
    approver: str | None,
    via: Via,
    now: datetime,
    request_posted: bool | None = None,
) -> Rows:
    """What every grant owes: the agreement, the history, the audit record, the posts, and the
    events company systems subscribed to (`facts`: the proposal granted, as recorded so far).

    `request_posted` (by default: unless granted within the agent's own authority) says a request
    was posted, which is brought up to date, and its proposer told. A customer who served
    themselves (`Via.CUSTOMER`, no approver) has no agreement to record and no person to
    celebrate: the decision is recorded, and nothing goes to kudos."""
    alone = via in (Via.ALONE, Via.CUSTOMER)
    channels = ctx.policy.channels
    owed = [(OutboxKind.DECISION, channels.decisions)]
    if via is not Via.CUSTOMER:
        owed.append((OutboxKind.KUDOS, channels.kudos))
    if request_posted if request_posted is not None else not alone:
        assert proposer is not None, "a request granted has the proposer who took it up"
        owed += [(OutboxKind.REQUEST_UPDATE, channels.requests), (OutboxKind.PROPOSER_NOTE, proposer)]
    return Rows(
        approvals=() if approver is None else (ApprovalRow(approver=approver, via=via, at=now),),
        events=(EventRow(at=now, kind=Event.GRANTED, actor=approver, detail={"via": via}),),
        decisions=(
            DecisionRow(
                tier=tier,
                agreed_by=None if alone else approver,
                granted_at=now,
                # Working time: hours no one could answer in don't count against the team.
                seconds_to_decision=working_seconds_between(created_at, now, ctx.policy.hours),
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


def grant(
    session: Session,
    ctx: Context,
    proposal: Proposal,
    *,
    approver: str,
    via: Via,
    tier: Tier | None = None,
    request_posted: bool | None = None,
) -> bool:
    """The single conditional state change that grants a pending proposal, plus everything a
    grant owes (every path that grants a pending request comes here). False: someone else
    decided it first."""
    now = ctx.clock()
    tier = tier or Tier(proposal.tier)
    changed = transition(session, proposal_id=proposal.id, event=Event.GRANTED, decided_at=now, decided_by=approver)
    if not changed:
        return False
    mark(proposal, status=Status.GRANTED, decided_at=now, decided_by=approver)
    rows = grant_rows(
        ctx,
        facts=proposal,
        tier=tier,
        proposer=proposal.proposer,
        created_at=proposal.created_at,
        approver=approver,
        via=via,
        now=now,
        request_posted=request_posted,
    )
    batch.add_rows(session, [(proposal.id, rows)])
    count_grant(ctx, tier, seconds=rows.decisions[0].seconds_to_decision)
    return True


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
    """The request message owes an update to its proposal's state."""
    queries.enqueue(
        session, kind=OutboxKind.REQUEST_UPDATE, channel=ctx.policy.channels.requests, at=at, proposal_id=proposal_id
    )


def request_update(ctx: Context, *, at: datetime) -> OutboxRow:
    """`owe_request_update`'s row, for a batch of them: a request may be brought up to date more
    than once, so it has no dedupe key."""
    return outbox_row(kind=OutboxKind.REQUEST_UPDATE, channel=ctx.policy.channels.requests, at=at)
