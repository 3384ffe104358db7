"""The loop closes with the customer: the agent who granted a remedy tells how the customer took
it. A delighted customer joins the decision's celebration; an unhappy one is something for
leads to learn from, never posted and never blamed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from bot.core.lifecycle import Event, Status
from bot.core.vocabulary import CustomerOutcome, OutboxKind
from bot.services import webhooks
from bot.services.context import Context
from bot.services.results import NotFound, Refused
from storage import queries
from storage.models import Proposal
from storage.queries import outcomes as outcome_queries

ONLY_THE_PROPOSER = "Only the agent who granted it can say how the customer took it."


@dataclass(frozen=True)
class OutcomeTold:
    proposal: Proposal
    outcome: CustomerOutcome


OutcomeResult = OutcomeTold | NotFound | Refused


def tell_outcome(
    ctx: Context, *, user: str, outcome: CustomerOutcome, proposal_id: int | None = None, case_ref: str | None = None
) -> OutcomeResult:
    """Keep how the customer took a granted remedy (a button names the proposal; the command, the
    case). Who may say so is read from the proposal, never from the button."""
    try:
        result = _tell(ctx, user=user, outcome=outcome, proposal_id=proposal_id, case_ref=case_ref)
    except IntegrityError:  # told twice at once: the other one queued the kudos reply
        result = _tell(ctx, user=user, outcome=outcome, proposal_id=proposal_id, case_ref=case_ref)
    ctx.wake_sender()
    return result


def _tell(
    ctx: Context, *, user: str, outcome: CustomerOutcome, proposal_id: int | None, case_ref: str | None
) -> OutcomeResult:
    now = ctx.clock()
    with ctx.sessions.begin() as session:
        if proposal_id is not None:
            proposal = queries.get_proposal(session, proposal_id=proposal_id)
        else:
            proposal = outcome_queries.granted_on_case(session, proposer=user, case_ref=case_ref or "")
        if proposal is None or proposal.status != Status.GRANTED:
            return NotFound()
        if proposal.proposer != user:
            return Refused(ONLY_THE_PROPOSER)
        if not outcome_queries.record_outcome(session, proposal_id=proposal.id, outcome=outcome, at=now):
            return NotFound()
        queries.add_event(
            session, proposal_id=proposal.id, at=now, kind=Event.OUTCOME, actor=user, detail={"outcome": outcome}
        )
        webhooks.outcome_told(session, ctx, proposal, outcome=outcome, by=user, at=now)
        reply_key = f"{OutboxKind.KUDOS_REPLY}:{proposal.id}"  # said once, however often it is told
        if outcome is CustomerOutcome.DELIGHTED and not queries.outbox_has(session, dedupe_key=reply_key):
            queries.enqueue(
                session,
                kind=OutboxKind.KUDOS_REPLY,
                channel=ctx.policy.channels.kudos,
                at=now,
                proposal_id=proposal.id,
                dedupe_key=reply_key,
            )
    return OutcomeTold(proposal, outcome)
