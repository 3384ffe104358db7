"""Agreeing reactions kept until Leeway knows the ts of the request they answer (see `EarlyReaction`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import EarlyReaction, Proposal


def keep_reaction(session: Session, *, channel: str, ts: str, user: str, reaction: str, at: datetime) -> None:
    """Keep a reaction to the message at `channel`/`ts`: once, however often it is delivered."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {"channel": channel, "ts": ts, "user": user, "reaction": reaction, "received_at": at}
    session.execute(insert(EarlyReaction).values(values).on_conflict_do_nothing())


def has_kept_reactions(session: Session, *, channel: str, ts: str) -> bool:
    return bool(session.scalar(select(exists().where(EarlyReaction.channel == channel, EarlyReaction.ts == ts))))


def take_reactions(session: Session, *, channel: str, ts: str) -> list[str]:
    """Remove the reactions kept for a message and return who reacted, first come first. Taking
    is a DELETE: of callers racing for them, each reaction goes to exactly one."""
    taken = session.execute(
        delete(EarlyReaction)
        .where(EarlyReaction.channel == channel, EarlyReaction.ts == ts)
        .returning(EarlyReaction.id, EarlyReaction.user)
        .execution_options(synchronize_session=False)
    ).all()
    return list(dict.fromkeys(user for _, user in sorted(taken)))


def reacted_requests(session: Session) -> list[tuple[str, str]]:
    """The requests, as channel and ts, that have reactions kept for them."""
    query = select(EarlyReaction.channel, EarlyReaction.ts).where(
        exists().where(Proposal.request_channel == EarlyReaction.channel, Proposal.request_ts == EarlyReaction.ts)
    )
    return [(channel, ts) for channel, ts in session.execute(query.distinct())]


def has_reactions_before(session: Session, *, before: datetime) -> bool:
    return bool(session.scalar(select(exists().where(EarlyReaction.received_at < before))))


def prune_reactions(session: Session, *, before: datetime) -> int:
    """Forget reactions kept since before `before`; returns how many."""
    pruned = session.execute(
        delete(EarlyReaction).where(EarlyReaction.received_at < before).execution_options(synchronize_session=False)
    )
    return cast("CursorResult[Any]", pruned).rowcount
