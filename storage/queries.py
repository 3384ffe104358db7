"""Queries. Keyword-only, and none of them commits: the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from storage.models import Approval, Decision, OutboxMessage, Proposal, ProposalEvent


def add_proposal(session: Session, **fields: Any) -> Proposal:
    proposal = Proposal(**fields)
    session.add(proposal)
    session.flush()
    return proposal


def get_proposal(session: Session, *, proposal_id: int) -> Proposal | None:
    return session.get(Proposal, proposal_id, populate_existing=True)


def proposal_by_source_key(session: Session, *, key: str) -> Proposal | None:
    return session.scalars(select(Proposal).where(Proposal.source_key == key)).first()


def proposal_by_request_message(session: Session, *, channel: str, ts: str) -> Proposal | None:
    return session.scalars(
        select(Proposal).where(Proposal.request_channel == channel, Proposal.request_ts == ts)
    ).first()


def change_status(session: Session, *, proposal_id: int, from_statuses: Iterable[str], to_status: str,
                  **values: Any) -> bool:
    """The one conditional state change: True only for the caller that made it."""
    result = session.execute(
        update(Proposal)
        .where(Proposal.id == proposal_id, Proposal.status.in_(list(from_statuses)))
        .values(status=to_status, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def set_request_message(session: Session, *, proposal_id: int, channel: str, ts: str) -> None:
    session.execute(update(Proposal).where(Proposal.id == proposal_id)
                    .values(request_channel=channel, request_ts=ts)
                    .execution_options(synchronize_session=False))


def add_event(session: Session, *, proposal_id: int, at: datetime, kind: str, actor: str | None,
              detail: dict[str, Any] | None = None) -> None:
    session.add(ProposalEvent(proposal_id=proposal_id, at=at, kind=kind, actor=actor, detail=detail or {}))


def events_of(session: Session, *, proposal_id: int) -> list[ProposalEvent]:
    return list(session.scalars(select(ProposalEvent).where(ProposalEvent.proposal_id == proposal_id)
                                .order_by(ProposalEvent.id)))


def add_approval(session: Session, *, proposal_id: int, approver: str, via: str, at: datetime) -> None:
    session.add(Approval(proposal_id=proposal_id, approver=approver, via=via, at=at))


def add_decision(session: Session, *, proposal_id: int, tier: str, agreed_by: str | None,
                 granted_at: datetime, seconds_to_decision: int) -> None:
    session.add(Decision(proposal_id=proposal_id, tier=tier, agreed_by=agreed_by, granted_at=granted_at,
                         seconds_to_decision=seconds_to_decision))


def decision_of(session: Session, *, proposal_id: int) -> Decision | None:
    return session.scalars(select(Decision).where(Decision.proposal_id == proposal_id)).first()


def open_asks(session: Session, *, users: Iterable[str]) -> dict[str, int]:
    rows = session.execute(
        select(Proposal.asked, func.count())
        .where(Proposal.status == "pending", Proposal.asked.in_(list(users)))
        .group_by(Proposal.asked)
    )
    return {asked: count for asked, count in rows if asked is not None}


def last_asked(session: Session, *, users: Iterable[str]) -> dict[str, datetime]:
    rows = session.execute(
        select(Proposal.asked, func.max(Proposal.created_at))
        .where(Proposal.asked.in_(list(users)))
        .group_by(Proposal.asked)
    )
    return {asked: at for asked, at in rows if asked is not None and at is not None}


# --- outbox -------------------------------------------------------------------------------------

def enqueue(session: Session, *, kind: str, channel: str, at: datetime, proposal_id: int | None = None,
            user: str | None = None, detail: dict[str, Any] | None = None,
            dedupe_key: str | None = None) -> OutboxMessage:
    message = OutboxMessage(kind=kind, channel=channel, user=user, proposal_id=proposal_id,
                            detail=detail or {}, dedupe_key=dedupe_key, status="pending", attempts=0,
                            created_at=at, next_attempt_at=at)
    session.add(message)
    return message


def claim_due(session: Session, *, now: datetime, lease_until: datetime, limit: int) -> list[OutboxMessage]:
    """Claim due messages for this sender. A claim is a conditional update, so two
    senders (or two instances) never both take one; an expired lease is retaken."""
    due = select(OutboxMessage.id).where(
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.status == "pending",
            (OutboxMessage.status == "sending") & (OutboxMessage.claimed_until < now)),
    ).order_by(OutboxMessage.id).limit(limit)
    ids = list(session.scalars(due))
    claimed: list[int] = []
    for message_id in ids:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id,
                   or_(OutboxMessage.status == "pending",
                       (OutboxMessage.status == "sending") & (OutboxMessage.claimed_until < now)))
            .values(status="sending", claimed_until=lease_until)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(message_id)
    if not claimed:
        return []
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(claimed))
                                .order_by(OutboxMessage.id).execution_options(populate_existing=True)))


def mark_sent(session: Session, *, message_id: int, at: datetime, slack_channel: str | None,
              slack_ts: str | None) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                    .values(status="sent", sent_at=at, claimed_until=None, slack_channel=slack_channel,
                            slack_ts=slack_ts, attempts=OutboxMessage.attempts + 1)
                    .execution_options(synchronize_session=False))


def reschedule(session: Session, *, message_id: int, at: datetime, error: str | None,
               count_attempt: bool = True) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                    .values(status="pending", next_attempt_at=at, claimed_until=None, last_error=error,
                            attempts=OutboxMessage.attempts + (1 if count_attempt else 0))
                    .execution_options(synchronize_session=False))


def mark_failed(session: Session, *, message_id: int, error: str) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                    .values(status="failed", claimed_until=None, last_error=error,
                            attempts=OutboxMessage.attempts + 1)
                    .execution_options(synchronize_session=False))


def outbox_message(session: Session, *, proposal_id: int, kind: str) -> OutboxMessage | None:
    return session.scalars(select(OutboxMessage).where(OutboxMessage.proposal_id == proposal_id,
                                                       OutboxMessage.kind == kind)
                           .order_by(OutboxMessage.id)).first()


def outbox_backlog(session: Session) -> tuple[int, datetime | None]:
    count, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status.in_(["pending", "sending"]))
    ).one()
    return int(count), oldest
