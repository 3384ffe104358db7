"""Integrations, their rate counters, and the answers given under an Idempotency-Key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.orm import Session

from storage.models import IdempotentAnswer, Integration, Proposal
from storage.queries._updates import updated


def add_integration(session: Session, *, name: str, token_hash: str, scopes: str, now: datetime) -> Integration:
    integration = Integration(name=name, token_hash=token_hash, scopes=scopes, created_at=now, rate_count=0)
    session.add(integration)
    session.flush()  # a name taken already fails here, with IntegrityError
    return integration


def integration_named(session: Session, *, name: str) -> Integration | None:
    return session.scalars(select(Integration).where(Integration.name == name)).one_or_none()


def integration_by_token_hash(session: Session, *, token_hash: str) -> Integration | None:
    return session.scalars(select(Integration).where(Integration.token_hash == token_hash)).one_or_none()


def integrations(session: Session) -> list[Integration]:
    return list(session.scalars(select(Integration).order_by(Integration.name)))


def revoke_integration(session: Session, *, name: str, now: datetime) -> bool:
    """Revoke it, if it isn't already; whether this revoked it."""
    statement = (
        update(Integration).where(Integration.name == name, Integration.revoked_at.is_(None)).values(revoked_at=now)
    )
    return updated(session, statement) == 1


def spend_rate(session: Session, *, integration_id: int, window: datetime, limit: int) -> bool:
    """Count one request in `window` if the integration has not made `limit` in it: one
    conditional write, so processes and instances sharing the database share the count (on
    PostgreSQL a second writer waits for the row and checks again; on SQLite writers take turns)."""
    statement = (
        update(Integration)
        .where(
            Integration.id == integration_id,
            or_(
                Integration.rate_window.is_(None),
                Integration.rate_window != window,
                Integration.rate_count < limit,
            ),
        )
        .values(
            rate_count=case((Integration.rate_window == window, Integration.rate_count + 1), else_=1),
            rate_window=window,
        )
    )
    return updated(session, statement) == 1


def claim_key(session: Session, *, integration_id: int, key: str, fingerprint: str, now: datetime) -> None:
    """Claim an Idempotency-Key for a request; IntegrityError when it was claimed already."""
    session.add(IdempotentAnswer(integration_id=integration_id, key=key, fingerprint=fingerprint, created_at=now))
    session.flush()


def answer_under(session: Session, *, integration_id: int, key: str) -> IdempotentAnswer | None:
    return session.scalars(
        select(IdempotentAnswer).where(IdempotentAnswer.integration_id == integration_id, IdempotentAnswer.key == key)
    ).one_or_none()


def record_answer(session: Session, *, integration_id: int, key: str, status_code: int, body: dict[str, Any]) -> None:
    """Keep the answer to a claimed key; the first answer stands (a concurrent twin's is the same)."""
    updated(
        session,
        update(IdempotentAnswer)
        .where(
            IdempotentAnswer.integration_id == integration_id,
            IdempotentAnswer.key == key,
            IdempotentAnswer.status_code.is_(None),
        )
        .values(status_code=status_code, body=body),
    )


def release_key(session: Session, *, integration_id: int, key: str, fingerprint: str) -> None:
    """Give up a claim that recorded nothing (a refused order), so the key may be used again."""
    updated(
        session,
        delete(IdempotentAnswer).where(
            IdempotentAnswer.integration_id == integration_id,
            IdempotentAnswer.key == key,
            IdempotentAnswer.fingerprint == fingerprint,
            IdempotentAnswer.status_code.is_(None),
        ),
    )


def source_key_of(session: Session, *, proposal_id: int) -> str | None:
    """The source key a proposal was recorded under ("api:<integration id>:<key>" for the API's)."""
    return session.scalars(select(Proposal.source_key).where(Proposal.id == proposal_id)).one_or_none()
