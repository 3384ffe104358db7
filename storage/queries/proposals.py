"""Proposals, their history and their audit record."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.orm import Session

from bot.core.lifecycle import Event, Status
from storage.batch import EventRow, child_values
from storage.models import Decision, Proposal, ProposalEvent
from storage.queries._updates import updated

_EVENT = cast(Table, ProposalEvent.__table__)


def get_proposal(session: Session, *, proposal_id: int) -> Proposal | None:
    return session.get(Proposal, proposal_id, populate_existing=True)


def proposal_by_source_key(session: Session, *, key: str) -> Proposal | None:
    return session.scalars(select(Proposal).where(Proposal.source_key == key)).first()


def proposal_by_request_message(session: Session, *, channel: str, ts: str) -> Proposal | None:
    return session.scalars(
        select(Proposal).where(Proposal.request_channel == channel, Proposal.request_ts == ts)
    ).first()


def change_status(
    session: Session, *, proposal_id: int, from_statuses: Iterable[Status], to_status: Status, **values: Any
) -> bool:
    """The one conditional state change: True only for the caller that made it."""
    changed = updated(
        session,
        update(Proposal)
        .where(Proposal.id == proposal_id, Proposal.status.in_(list(from_statuses)))
        .values(status=to_status, **values),
    )
    return changed == 1


def set_request_message(session: Session, *, proposal_id: int, channel: str, ts: str) -> None:
    updated(session, update(Proposal).where(Proposal.id == proposal_id).values(request_channel=channel, request_ts=ts))


def add_event(
    session: Session,
    *,
    proposal_id: int,
    at: datetime,
    kind: Event,
    actor: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    # A plain INSERT on the session's connection: the ORM's unit of work would cost more than it.
    row = EventRow(at=at, kind=kind, actor=actor, detail=detail or {})
    session.connection().execute(insert(_EVENT), child_values(row, proposal_id))


def events_of(session: Session, *, proposal_id: int) -> list[ProposalEvent]:
    return list(
        session.scalars(
            select(ProposalEvent).where(ProposalEvent.proposal_id == proposal_id).order_by(ProposalEvent.id)
        )
    )


def decision_of(session: Session, *, proposal_id: int) -> Decision | None:
    return session.scalars(select(Decision).where(Decision.proposal_id == proposal_id)).first()


def open_asks(session: Session, *, users: Iterable[str]) -> dict[str, int]:
    rows = session.execute(
        select(Proposal.asked, func.count())
        .where(Proposal.status == Status.PENDING, Proposal.asked.in_(list(users)))
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


def pending_of(session: Session, *, proposer: str, case_ref: str | None = None) -> list[Proposal]:
    query = select(Proposal).where(Proposal.proposer == proposer, Proposal.status == Status.PENDING)
    if case_ref is not None:
        query = query.where(func.lower(Proposal.case_ref) == case_ref.lower())
    return list(session.scalars(query.order_by(Proposal.id)))


def lock_routing(session: Session) -> None:
    """Serialise choosing whom to ask, so concurrent proposals spread fairly. SQLite's
    BEGIN IMMEDIATE already serialises writers; PostgreSQL needs a transaction lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7352002)"))
