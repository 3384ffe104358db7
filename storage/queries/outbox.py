"""The outbox: messages owed to Slack, their claims by senders, and each channel's pace."""

from __future__ import annotations

import functools
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from bot.core.vocabulary import OutboxKind, OutboxStatus
from storage.batch import outbox_row
from storage.models import ChannelPace, OutboxMessage, Proposal
from storage.queries._pending import PENDING
from storage.queries._updates import updated

_OUTBOX = cast(Table, OutboxMessage.__table__)
_PENDING, _SENDING = OutboxStatus.PENDING, OutboxStatus.SENDING
_TO_SLACK = OutboxMessage.kind != OutboxKind.WEBHOOK


def enqueue(
    session: Session,
    *,
    kind: OutboxKind,
    channel: str,
    at: datetime,
    proposal_id: int | None = None,
    user: str | None = None,
    detail: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> None:
    """Owe Slack a message, due at `at`, committed with the caller's change."""
    row = outbox_row(kind=kind, channel=channel, at=at, user=user, detail=detail, dedupe_key=dedupe_key)
    # A plain INSERT on the session's connection: the ORM's unit of work would cost more than it.
    session.connection().execute(insert(_OUTBOX), {**row.values(), "proposal_id": proposal_id})


def request_being_posted(session: Session, *, channel: str) -> bool:
    """Is a request to `channel` sent or on its way but not yet recorded with its ts?"""
    query = select(func.count()).select_from(OutboxMessage).join(Proposal, Proposal.id == OutboxMessage.proposal_id)
    query = query.where(
        OutboxMessage.kind == OutboxKind.REQUEST,
        OutboxMessage.channel == channel,
        OutboxMessage.status.in_([_PENDING, _SENDING]),
        Proposal.request_ts.is_(None),
    )
    return bool(session.scalar(query))


def claim_due(
    session: Session,
    *,
    now: datetime,
    lease_until: datetime,
    limit: int,
    token: str,
    paced: Collection[OutboxKind] = (),
    unpaced: Collection[OutboxKind] = (),
    post_interval: timedelta = timedelta(0),
) -> list[OutboxMessage]:
    """Claim due messages for the sender `token`. A claim is a conditional update, so two
    senders (or two instances) never both take one; an expired claim is retaken.

    With a `post_interval`, messages of a `paced` kind go one per channel per interval: only the
    oldest due one in a channel whose slot is free is claimed, and claiming it takes the slot.
    The rest stay pending, untouched, until their channel's next slot. Every query here is an
    index lookup, one per channel with messages waiting: a long line in one channel costs a
    pass nothing."""
    pending_due = (OutboxMessage.status == _PENDING) & (OutboxMessage.next_attempt_at <= now)
    lapsed = (OutboxMessage.status == _SENDING) & (OutboxMessage.claimed_until < now)
    if not paced or post_interval <= timedelta(0):
        if kinds := {*paced, *unpaced}:  # only these: other kinds have senders of their own
            pending_due, lapsed = pending_due & OutboxMessage.kind.in_(kinds), lapsed & OutboxMessage.kind.in_(kinds)
        candidates = _ids(session, pending_due, limit) + _ids(session, lapsed, limit)
    else:
        candidates = _ids(session, pending_due & OutboxMessage.kind.in_(unpaced), limit)
        candidates += _ids(session, lapsed & OutboxMessage.kind.in_(unpaced), limit)
        busy = set(session.scalars(select(ChannelPace.channel).where(ChannelPace.next_post_at > now)))
        # A post whose sender died mid-claim keeps its place in its channel's line.
        lapsed_heads: dict[str, int] = dict(
            session.execute(
                select(OutboxMessage.channel, func.min(OutboxMessage.id))
                .where(lapsed, OutboxMessage.kind.in_(paced))
                .group_by(OutboxMessage.channel)
            ).all()
        )
        heads: list[tuple[int, str]] = []
        for channel in (set(session.scalars(_channels_waiting())) | set(lapsed_heads)) - busy:
            pending_head = session.scalar(
                select(func.min(OutboxMessage.id)).where(
                    pending_due, OutboxMessage.channel == channel, OutboxMessage.kind.in_(paced)
                )
            )
            firsts = [first for first in (pending_head, lapsed_heads.get(channel)) if first is not None]
            if firsts:
                heads.append((min(firsts), channel))
        for head, channel in sorted(heads):  # the oldest first, whatever its channel
            if len(candidates) >= limit:
                break
            if take_slot(session, channel=channel, now=now, until=now + post_interval):
                candidates.append(head)
    return claim(session, ids=sorted(candidates), now=now, lease_until=lease_until, token=token)


def claim(session: Session, *, ids: list[int], now: datetime, lease_until: datetime, token: str) -> list[OutboxMessage]:
    """Claim the messages `ids` that are still due (or whose claim lapsed) for the sender `token`,
    each by a conditional update, so of two senders only one takes each; returns those taken."""
    pending_due = (OutboxMessage.status == _PENDING) & (OutboxMessage.next_attempt_at <= now)
    lapsed = (OutboxMessage.status == _SENDING) & (OutboxMessage.claimed_until < now)
    claimed = [
        message_id
        for message_id in ids
        if updated(
            session,
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, pending_due | lapsed)
            .values(status=_SENDING, claimed_until=lease_until, claimed_by=token),
        )
        == 1
    ]
    if not claimed:
        return []
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(claimed))
            .order_by(OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
    )


def _ids(session: Session, where: ColumnElement[bool], limit: int) -> list[int]:
    return list(session.scalars(select(OutboxMessage.id).where(where).order_by(OutboxMessage.id).limit(limit)))


@functools.cache
def _channels_waiting() -> Select[str]:
    """The channels that have messages waiting, found by hopping along the (status, channel)
    index from one channel to the next rather than reading every waiting message."""
    pending = OutboxMessage.status == _PENDING
    waiting = select(func.min(OutboxMessage.channel).label("channel")).where(pending).cte("waiting", recursive=True)
    later = aliased(OutboxMessage)
    following = (
        select(func.min(later.channel)).where(later.status == _PENDING, later.channel > waiting.c.channel)
    ).scalar_subquery()
    waiting = waiting.union_all(select(following).where(waiting.c.channel.is_not(None)))
    return select(waiting.c.channel).where(waiting.c.channel.is_not(None))


def take_slot(session: Session, *, channel: str, now: datetime, until: datetime) -> bool:
    """Take a channel's posting slot if it is free at `now`, holding it until `until`. One
    conditional upsert: of two instances racing for a slot, exactly one gets it."""
    taken = session.execute(
        _set_pace(session, channel=channel, until=until, where=ChannelPace.next_post_at <= now).returning(
            ChannelPace.channel
        )
    ).first()
    return taken is not None


def _set_pace(session: Session, *, channel: str, until: datetime, where: ColumnElement[bool]) -> Any:
    """Upsert a channel's next posting time; an existing row changes only when `where` holds."""
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return (
        upsert(ChannelPace)
        .values(channel=channel, next_post_at=until)
        .on_conflict_do_update(index_elements=[ChannelPace.channel], set_={"next_post_at": until}, where=where)
    )


def next_free_slot(session: Session, *, after: datetime, paced: Collection[OutboxKind]) -> datetime | None:
    """When the next channel with posts waiting for its slot may post again (None: no post waits)."""
    waiting = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == _PENDING,
            OutboxMessage.channel == ChannelPace.channel,
            OutboxMessage.kind.in_(paced),
        )
        .exists()
    )
    return session.scalar(select(func.min(ChannelPace.next_post_at)).where(ChannelPace.next_post_at > after, waiting))


def next_attempt(session: Session, *, after: datetime) -> datetime | None:
    """When the next message to Slack not yet due (a retry, a deferral) falls due."""
    return session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == _PENDING, OutboxMessage.next_attempt_at > after, _TO_SLACK
        )
    )


def hold_channel(session: Session, *, channel: str, until: datetime) -> None:
    """Slack asked us to wait (429): no post to this channel before `until`."""
    session.execute(_set_pace(session, channel=channel, until=until, where=ChannelPace.next_post_at < until))


def renew_claim(session: Session, *, message_id: int, token: str, lease_until: datetime) -> bool:
    """Just before sending: still ours? (A slow pass may have outlived its claim.)"""
    changed = updated(session, update(OutboxMessage).where(_held(message_id, token)).values(claimed_until=lease_until))
    return changed == 1


def _held(message_id: int, token: str) -> ColumnElement[bool]:
    return (OutboxMessage.id == message_id) & (OutboxMessage.status == _SENDING) & (OutboxMessage.claimed_by == token)


def mark_sent(
    session: Session, *, message_id: int, token: str, at: datetime, slack_channel: str | None, slack_ts: str | None
) -> bool:
    changed = updated(
        session,
        update(OutboxMessage)
        .where(_held(message_id, token))
        .values(
            status=OutboxStatus.SENT,
            sent_at=at,
            claimed_until=None,
            claimed_by=None,
            slack_channel=slack_channel,
            slack_ts=slack_ts,
            attempts=OutboxMessage.attempts + 1,
        ),
    )
    return changed == 1


def reschedule(
    session: Session, *, message_id: int, token: str, at: datetime, error: str | None, count_attempt: bool = True
) -> None:
    updated(
        session,
        update(OutboxMessage)
        .where(_held(message_id, token))
        .values(
            status=_PENDING,
            next_attempt_at=at,
            claimed_until=None,
            claimed_by=None,
            last_error=error,
            attempts=OutboxMessage.attempts + (1 if count_attempt else 0),
        ),
    )


def mark_failed(session: Session, *, message_id: int, token: str, error: str) -> bool:
    changed = updated(
        session,
        update(OutboxMessage)
        .where(_held(message_id, token))
        .values(
            status=OutboxStatus.FAILED,
            claimed_until=None,
            claimed_by=None,
            last_error=error,
            attempts=OutboxMessage.attempts + 1,
        ),
    )
    return changed == 1


def outbox_has(session: Session, *, dedupe_key: str) -> bool:
    return session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None


def outbox_message(session: Session, *, proposal_id: int, kind: OutboxKind) -> OutboxMessage | None:
    return session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.proposal_id == proposal_id, OutboxMessage.kind == kind)
        .order_by(OutboxMessage.id)
    ).first()


def outbox_backlog(session: Session) -> tuple[int, datetime | None]:
    """What is owed to Slack (webhooks have their own backlog, by endpoint)."""
    count, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.status.in_([_PENDING, _SENDING]), _TO_SLACK
        )
    ).one()
    return int(count), oldest


def forget_delivered(session: Session, *, before: datetime, limit: int) -> int:
    """Delete up to `limit` messages that were sent, or given up on, and last tried before
    `before`; returns how many. Never one still owed (pending, or being sent), and never one of a
    proposal still pending: what it may yet owe is keyed to what it already sent. On PostgreSQL
    the rows another instance is deleting are left to it, so two never wait on each other."""
    proposal_pending = select(Proposal.id).where(Proposal.id == OutboxMessage.proposal_id, PENDING).exists()
    done = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.FAILED]),
            OutboxMessage.next_attempt_at < before,
            ~proposal_pending,
        )
        .limit(limit)
        .with_for_update(of=OutboxMessage, skip_locked=True)
    )
    # Picked first, then deleted by id: as a subquery of the DELETE, PostgreSQL may run the
    # LIMIT again for each row it checks, and with no order each run may pick others.
    picked = list(session.scalars(done))
    if not picked:
        return 0
    return updated(session, delete(OutboxMessage).where(OutboxMessage.id.in_(picked)))
