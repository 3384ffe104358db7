"""Proposals from the company's own systems (the HTTP API calls these): a customer serving
themselves inside the product, a customer's request for an agent to take up, or a helpdesk
sidebar proposing for an agent exactly as `/remedy` would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from bot.core import authority
from bot.core.lifecycle import Status
from bot.core.parsing import Draft, InputError, check_case_ref, check_summary, parse_amount
from bot.core.policy import CaseSoFar, Policy, Remedy, Tier
from bot.core.vocabulary import RequestedBy, Via
from bot.services import records
from bot.services.context import Context
from bot.services.encouragement import precedent
from bot.services.proposing import propose
from bot.services.requesting import write_request
from bot.services.results import Asked, Granted, OutOfPolicy, Refused
from storage import batch, db, queries
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
    tier: Tier  # Tier.CUSTOMER for a self-served grant
    remedy_id: str
    amount: Decimal
    unit: str
    case_ref: str
    requested_by: RequestedBy | None  # None for proposals made in Slack
    proposer: str | None  # the agent who proposed or took it up; None while a customer's request waits
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None


class ProductRefused(Exception):
    """The order can't be recorded as asked (unknown remedy, agent who may not propose, above the
    lead limit, …): the API answers 422 naming `field`. Nothing was stored."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def answer_of(proposal: Proposal) -> ProductAnswer:
    return ProductAnswer(
        id=proposal.id,
        status=Status(proposal.status),
        tier=Tier(proposal.tier),
        remedy_id=proposal.remedy_id,
        amount=proposal.amount,
        unit=proposal.unit,
        case_ref=proposal.case_ref,
        requested_by=RequestedBy(proposal.requested_by) if proposal.requested_by else None,
        proposer=proposal.proposer,
        created_at=proposal.created_at,
        decided_at=proposal.decided_at,
        decided_by=proposal.decided_by,
    )


def standing(ctx: Context, proposal_id: int) -> ProductAnswer | None:
    """Where a proposal stands now (None: there is no such proposal)."""
    with db.reading(ctx.sessions) as session:
        proposal = queries.get_proposal(session, proposal_id=proposal_id)
    return answer_of(proposal) if proposal is not None else None


def propose_from_product(ctx: Context, order: ProductOrder, *, source_key: str) -> ProductAnswer:
    """Record the order (one transaction with the posts it owes). A repeat with the same
    `source_key` records nothing and returns the answer for the proposal already recorded."""
    recorded = _recorded(ctx, source_key)
    if recorded is not None:
        return recorded
    policy = ctx.policy
    remedy = policy.remedy(order.remedy_id)
    if remedy is None:
        known = ", ".join(r.id for r in policy.remedies)
        raise ProductRefused(f"There is no remedy `{order.remedy_id}` in Leeway's policy (it has {known}).", "remedy")
    draft = _draft(order, remedy, policy)
    through = records.Through(
        requested_by=order.requested_by,
        integration=order.integration,
        customer_id=order.customer_id,
        customer_name=order.customer_name,
    )
    try:
        if order.requested_by is RequestedBy.AGENT:
            return _for_agent(ctx, order, draft, through, source_key=source_key)
        return _for_customer(ctx, remedy, draft, through, source_key=source_key)
    except IntegrityError:  # the same order arrived twice at once; the other one recorded it
        again = _recorded(ctx, source_key)
        if again is None:
            raise
        return again


def _recorded(ctx: Context, source_key: str) -> ProductAnswer | None:
    with db.reading(ctx.sessions) as session:
        existing = queries.proposal_by_source_key(session, key=source_key)
    return answer_of(existing) if existing is not None else None


def _draft(order: ProductOrder, remedy: Remedy, policy: Policy) -> Draft:
    """The order as a draft, checked as a Slack proposal's facts are."""
    try:
        amount = parse_amount(format(order.amount, "f"), remedy, policy)
        fair = parse_amount(format(order.fair, "f"), remedy, policy, what="fair") if order.fair is not None else None
        return Draft(
            remedy_id=remedy.id,
            amount=amount,
            case_ref=check_case_ref(order.case_ref),
            summary=check_summary(order.what_happened),
            fair=fair,
        )
    except InputError as error:
        field = {"case_ref": "case", "summary": "what_happened"}.get(error.field or "", error.field)
        raise ProductRefused(str(error), field) from None


def _for_agent(
    ctx: Context, order: ProductOrder, draft: Draft, through: records.Through, *, source_key: str
) -> ProductAnswer:
    """Exactly the path `/remedy` follows for that agent."""
    if not order.agent:
        raise ProductRefused("Name the agent this is proposed for (their Slack user id).", "agent")
    why_not = authority.may_propose(ctx.roster(), order.agent)
    if why_not:
        raise ProductRefused(f"<@{order.agent}> can't propose remedies: {why_not}", "agent")
    try:
        result = propose(
            ctx, proposer=order.agent, draft=draft, origin_channel=None, source_key=source_key, through=through
        )
    except InputError as error:
        raise ProductRefused(str(error), error.field) from None
    match result:
        case Granted() | Asked():
            return answer_of(result.proposal)
        case OutOfPolicy():
            raise ProductRefused(_out_of_policy(result.remedy, result.amount, result.already, ctx.policy), "amount")
        case Refused():
            raise ProductRefused(result.reason)


def _for_customer(
    ctx: Context, remedy: Remedy, draft: Draft, through: records.Through, *, source_key: str
) -> ProductAnswer:
    """Within `customer_up_to` (with what the case already has): granted at once, self-served.
    Above it, up to the lead limit: a request on the customer's behalf, for an agent to take up."""
    assert draft.amount is not None
    assert draft.case_ref is not None
    if remedy.tier_for(draft.amount, by_customer=True) is Tier.OUT_OF_POLICY:
        raise ProductRefused(_out_of_policy(remedy, draft.amount, CaseSoFar(), ctx.policy), "amount")
    lately = precedent(ctx, remedy_id=remedy.id, now=ctx.clock())
    with ctx.sessions.begin() as session:
        now = ctx.clock()
        case = [(remedy.id, draft.case_ref)]
        queries.lock_cases(session, cases=case)
        # A twin sent at once may have recorded it while this one waited for the case's lock: its
        # answer, not a tier that counts the twin against itself.
        twin = queries.proposal_by_source_key(session, key=source_key)
        if twin is not None:
            return answer_of(twin)
        (already,) = queries.so_far_on_cases(
            session, cases=case, since=now - ctx.policy.case_window, except_source_keys=[source_key]
        )
        tier = remedy.tier_for(draft.amount, already=already.total, by_customer=True)
        if tier is Tier.OUT_OF_POLICY:
            raise ProductRefused(_out_of_policy(remedy, draft.amount, already, ctx.policy), "amount")
        new = records.new_proposal(
            ctx,
            remedy,
            draft,
            status=Status.PENDING,
            tier=tier,
            proposer=None,
            origin_channel=None,
            source_key=source_key,
            now=now,
            through=through,
        )
        if tier is Tier.CUSTOMER:
            proposal = batch.add_proposal(session, _self_served(ctx, new, draft, through))
        else:
            asked = write_request(
                ctx, session, new, draft, ctx.roster(), now, lately, proposed_detail=through.history()
            )
            if isinstance(asked, Refused):
                raise ProductRefused(asked.reason)
            proposal = asked
    if tier is Tier.CUSTOMER:
        records.count_grant(ctx, Tier.CUSTOMER, seconds=0)
    else:
        ctx.metrics.outcome(tier, "asked")
    ctx.wake_sender()
    return answer_of(proposal)


def _self_served(ctx: Context, new: batch.NewProposal, draft: Draft, through: records.Through) -> batch.NewProposal:
    """The customer served themselves: the new row is itself the grant, with its audit record
    and the decision post (no one to celebrate, no one to ask), its history proposed → granted."""
    now = new.created_at
    grant = records.grant_rows(
        ctx,
        facts=new,
        tier=Tier.CUSTOMER,
        proposer=None,
        created_at=now,
        approver=None,
        via=Via.CUSTOMER,
        now=now,
    )
    proposed = records.proposed(now, None, Tier.CUSTOMER, draft, detail=through.history())
    return batch.NewProposal(
        **{
            **new.values(),
            "status": Status.GRANTED,
            "tier": Tier.CUSTOMER,
            "decided_at": now,
            "decided_by": None,
        },
        rows=batch.Rows(
            events=(proposed, *grant.events),
            approvals=grant.approvals,
            decisions=grant.decisions,
            outbox=grant.outbox,
        ),
    )


def _out_of_policy(remedy: Remedy, amount: Decimal, already: CaseSoFar, policy: Policy) -> str:
    most = policy.format_amount(remedy, remedy.highest_limit)
    asked = policy.format_amount(remedy, amount)
    if already.total and amount <= remedy.highest_limit:
        has = policy.format_amount(remedy, already.total)
        return (
            f"{remedy.label}: {asked}, with the {has} the case already has, would be above {most}, "
            "the most Leeway's policy grants on one case. A lead can help outside Leeway."
        )
    return f"{remedy.label}: {asked} is above {most}, the most Leeway's policy grants. A lead can help outside Leeway."


__all__ = [
    "ProductAnswer",
    "ProductOrder",
    "ProductRefused",
    "answer_of",
    "propose_from_product",
    "standing",
]
