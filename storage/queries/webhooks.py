"""The outbox rows owed to company systems' endpoints: claimed per endpoint by its own lane."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.vocabulary import OutboxKind, OutboxStatus
from storage.models import OutboxMessage
from storage.queries.outbox import claim

_WEBHOOK = OutboxMessage.kind == OutboxKind.WEBHOOK
_PENDING, _SENDING = OutboxStatus.PENDING, OutboxStatus.SENDING


def claim_webhooks(
    session: Session, *, endpoint: str, now: datetime, lease_until: datetime, token: str, limit: int
) -> list[OutboxMessage]:
    """Claim up to `limit` events due for `endpoint` (its key), oldest first, and any whose
    sender's claim lapsed (it died mid-delivery: the event goes again, at least once)."""
    due = (OutboxMessage.status == _PENDING) & (OutboxMessage.next_attempt_at <= now)
    lapsed = (OutboxMessage.status == _SENDING) & (OutboxMessage.claimed_until < now)
    ids = list(
        session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.channel == endpoint, _WEBHOOK, due | lapsed)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )
    return claim(session, ids=ids, now=now, lease_until=lease_until, token=token)


def next_webhook_attempt(session: Session, *, endpoint: str, after: datetime) -> datetime | None:
    """When the next event for `endpoint` not yet due (a retry) falls due."""
    return session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.channel == endpoint,
            _WEBHOOK,
            OutboxMessage.status == _PENDING,
            OutboxMessage.next_attempt_at > after,
        )
    )


def webhook_backlog(session: Session) -> dict[str, tuple[int, datetime]]:
    """Per endpoint key: how many events are owed, and when the oldest was."""
    rows = session.execute(
        select(OutboxMessage.channel, func.count(), func.min(OutboxMessage.created_at))
        .where(_WEBHOOK, OutboxMessage.status.in_([_PENDING, _SENDING]))
        .group_by(OutboxMessage.channel)
    ).all()
    return {channel: (int(count), oldest) for channel, count, oldest in rows}
