"""Orders from the company's own systems (the API): an agent's proposal made from a helpdesk
sidebar follows the path `/remedy` follows for that agent.

The smallest version of this contract (CONTRACT.md A) that the API needs: only the agent's
path, through `services.propose`. The customer's own tier and requests on their behalf come
with the full version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bot.core.lifecycle import Status
from bot.core.parsing import InputError, parse_form
from bot.core.policy import Tier
from bot.core.vocabulary import RequestedBy
from bot.services.context import Context
from bot.services.proposing import propose
from bot.services.results import Asked, Granted, OutOfPolicy, Refused
from storage import db, queries
from storage.models import Proposal


@dataclass(frozen=True)
class ProductOrder:
    """What a company system asks for; already validated for shape."""

    integration: str  # the integration's name, recorded as who asked
    remedy_id: str
    amount: Decimal
    case_ref: str
    what_happened: str
    fair: Decimal | None  # the customer's own fair figure
    requested_by: RequestedBy
    agent: str | None  # Slack user id; required when requested_by is AGENT
    customer_id: str | None
    customer_name: str | None


@dataclass(frozen=True)
class ProductAnswer:
    """Where a proposal stands, as the API reports it."""

    id: int
    status: Status
    tier: Tier
    remedy_id: str
    amount: Decimal
    unit: str
    case_ref: str
    requested_by: RequestedBy | None  # None for proposals made in Slack
    proposer: str | None  # None while a customer's request waits
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None


class ProductRefused(Exception):
    """The order can't be recorded as asked: the API answers 422 naming `field`. Nothing was stored."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# The proposal form's field names, as the order calls them.
_ORDER_FIELDS = {"remedy_id": "remedy_id", "amount": "amount", "case_ref": "case_ref", "summary": "what_happened"}


def propose_from_product(ctx: Context, order: ProductOrder, *, source_key: str) -> ProductAnswer:
    """Record the order; a repeat with the same `source_key` records nothing and answers for
    the proposal already recorded."""
    if order.requested_by is not RequestedBy.AGENT:
        raise ProductRefused("customer requests are not available yet", "requested_by")
    if not order.agent:
        raise ProductRefused("An agent's proposal names the agent (their Slack user id).", "agent")
    draft = parse_form(
        ctx.policy_for(order.agent),
        remedy_id=order.remedy_id,
        amount=str(order.amount),
        case_ref=order.case_ref,
        summary=order.what_happened,
        fair=None if order.fair is None else str(order.fair),
    )
    if isinstance(draft, dict):
        name, message = next(iter(draft.items()))
        raise ProductRefused(message, _ORDER_FIELDS.get(name, name))
    try:
        result = propose(ctx, proposer=order.agent, draft=draft, origin_channel=None, source_key=source_key)
    except InputError as error:
        raise ProductRefused(error.message, _ORDER_FIELDS.get(error.field or "", error.field)) from None
    if isinstance(result, OutOfPolicy):
        limit = result.remedy.lead_up_to
        raise ProductRefused(f"{result.amount} is above the lead limit for {result.remedy.label} ({limit}).", "amount")
    if isinstance(result, Refused):
        raise ProductRefused(result.reason, "agent")
    assert isinstance(result, Granted | Asked)
    return answer_for(result.proposal)


def standing(ctx: Context, proposal_id: int) -> ProductAnswer | None:
    with db.reading(ctx.sessions) as session:
        proposal = queries.get_proposal(session, proposal_id=proposal_id)
    return None if proposal is None else answer_for(proposal)


def answer_for(proposal: Proposal) -> ProductAnswer:
    return ProductAnswer(
        id=proposal.id,
        status=Status(proposal.status),
        tier=Tier(proposal.tier),
        remedy_id=proposal.remedy_id,
        amount=proposal.amount,
        unit=proposal.unit,
        case_ref=proposal.case_ref,
        # Until proposals record who asked for them, a proposal the API made is an agent's.
        requested_by=RequestedBy.AGENT if (proposal.source_key or "").startswith("api:") else None,
        proposer=proposal.proposer,
        created_at=proposal.created_at,
        decided_at=proposal.decided_at,
        decided_by=proposal.decided_by,
    )
