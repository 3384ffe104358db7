"""Review later, without blame; the weekly digest (its figures: `services.usage`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.lifecycle import Event
from bot.core.parsing import InputError, check_reason
from bot.core.vocabulary import OutboxKind, ReviewOutcome
from bot.services.context import Context
from bot.services.results import (
    ONLY_LEADS_REVIEW,
    AlreadyReviewed,
    NoSuchDecision,
    Refused,
    Reviewed,
    ReviewResult,
)
from storage import db, queries
from storage.models import Decision, Proposal

REVIEW_PAGE = 10
# The queue's size is counted up to this, and shown as "1000+" past it: a count of every
# decision never reviewed would read a year of them.
REVIEW_COUNTED_UP_TO = 1000


def review_queue(ctx: Context, *, user: str) -> tuple[list[tuple[Proposal, Decision]], int] | Refused:
    """Granted decisions no lead has reviewed yet, oldest first, and how many there are (more
    than REVIEW_COUNTED_UP_TO: REVIEW_COUNTED_UP_TO + 1)."""
    if not ctx.roster().is_lead(user):
        return Refused(ONLY_LEADS_REVIEW)
    with db.reading(ctx.sessions) as session:
        return queries.review_queue(session, limit=REVIEW_PAGE), review_queue_size(session)


def review_queue_size(session: Session) -> int:
    """How many decisions wait for a review, up to REVIEW_COUNTED_UP_TO + 1 (which reads "more")."""
    return queries.review_queue_size(session, up_to=REVIEW_COUNTED_UP_TO + 1)


def to_review(ctx: Context, *, user: str, proposal_id: int) -> Proposal | Refused | AlreadyReviewed | NoSuchDecision:
    """The decision a lead is about to write a coaching note on, if it still needs a review."""
    if not ctx.roster().is_lead(user):
        return Refused(ONLY_LEADS_REVIEW)
    with db.reading(ctx.sessions) as session:
        proposal = queries.get_proposal(session, proposal_id=proposal_id)
        decision = queries.decision_of(session, proposal_id=proposal_id)
    if proposal is None or decision is None:
        return NoSuchDecision()
    return AlreadyReviewed(proposal) if decision.reviewed_at is not None else proposal


def review(
    ctx: Context, *, user: str, proposal_id: int, outcome: ReviewOutcome, note: str | None = None
) -> ReviewResult:
    """A lead reviews a decision once. "Let's talk" sends the agent a private coaching note."""
    if not ctx.roster().is_lead(user):
        return Refused(ONLY_LEADS_REVIEW)
    outcome = ReviewOutcome(outcome)
    note = check_reason(note)
    if outcome is ReviewOutcome.TALK and not note:
        raise InputError("Write a few words for the agent: what went well, and what to try next time.", "reason")
    now = ctx.clock()
    with ctx.sessions.begin() as session:
        proposal = queries.get_proposal(session, proposal_id=proposal_id)
        # What a customer served themselves is no one's decision to look back on.
        if (
            proposal is None
            or proposal.proposer is None
            or queries.decision_of(session, proposal_id=proposal_id) is None
        ):
            return NoSuchDecision()
        if not queries.record_review(session, proposal_id=proposal_id, at=now, by=user, outcome=outcome, note=note):
            return AlreadyReviewed(proposal)
        queries.add_event(
            session, proposal_id=proposal_id, at=now, kind=Event.REVIEWED, actor=user, detail={"outcome": outcome}
        )
        if outcome is ReviewOutcome.TALK:
            queries.enqueue(
                session,
                kind=OutboxKind.COACHING,
                channel=proposal.proposer,
                at=now,
                proposal_id=proposal_id,
                dedupe_key=f"{OutboxKind.COACHING}:{proposal_id}",
            )
        queries.enqueue(session, kind=OutboxKind.HOME, channel=user, at=now)
    ctx.wake_sender()
    return Reviewed(proposal, outcome)


def weekly_sent(ctx: Context, *, week: str) -> bool:
    with db.reading(ctx.sessions) as session:
        return queries.outbox_has(session, dedupe_key=f"weekly:{week}:{ctx.policy.channels.kudos}")


def running_before(ctx: Context, *, at: datetime) -> bool:
    """Whether Leeway was in use before `at` (it had seen someone, or a proposal was made)."""
    with db.reading(ctx.sessions) as session:
        return queries.known_before(session, at=at)


def send_weekly(
    ctx: Context,
    *,
    week: str,
    digests: dict[str, str],
    celebration: str,
    digest_blocks: list[dict[str, Any]] | None = None,
) -> int:
    """Queue the week's digest to each lead (as `digest_blocks` when given: the digest with the
    limits ready to move, and their buttons) and the celebration; once per week, however many
    instances run the job (the dedupe keys make a second run a no-op)."""
    queued = 0
    for lead, text in [*digests.items(), (ctx.policy.channels.kudos, celebration)]:
        blocks = digest_blocks if digest_blocks and lead in digests else None
        try:
            with ctx.sessions.begin() as session:
                queries.enqueue(
                    session,
                    kind=OutboxKind.NOTICE,
                    channel=lead,
                    at=ctx.clock(),
                    detail={"text": text, **({"blocks": blocks} if blocks else {})},
                    dedupe_key=f"weekly:{week}:{lead}",
                )
            queued += 1
        except IntegrityError:
            continue
    ctx.wake_sender()
    return queued
