"""A remedy's precedent, the people Leeway has seen (their welcome and nudges), and the nudges."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Subquery, Update, bindparam, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.core.encouragement import Example
from bot.core.lifecycle import Status
from bot.core.policy import Tier
from bot.core.vocabulary import OutboxKind, Welcome
from storage.models import Decision, Nudge, OutboxMessage, Person, Proposal
from storage.queries._updates import updated

# --- precedent -------------------------------------------------------------------------------


def granted_lately(session: Session, *, remedy_id: str, since: datetime, newest: int) -> tuple[int, list[Decimal]]:
    """How many proposals of a remedy were granted since `since`, and the amounts of the newest
    `newest` of them. Both read only the index of remedy, status, time and amount: the count
    walks the window's entries; the amounts are the first entries from its end. (An exact
    median of a busy month would sort every amount in it, some 45,000 at a million proposals a
    year: some 55 ms on SQLite, where this takes 5 ms with the count.)"""
    granted = (Proposal.remedy_id == remedy_id, Proposal.status == Status.GRANTED, Proposal.decided_at >= since)
    count = int(session.scalar(select(func.count()).select_from(Proposal).where(*granted)) or 0)
    if not count:
        return 0, []
    amounts = select(Proposal.amount).where(*granted).order_by(Proposal.decided_at.desc()).limit(newest)
    return count, list(session.scalars(amounts))


def granted_count(session: Session, *, remedy_id: str, since: datetime, until: datetime) -> int:
    """How many proposals of a remedy were granted in [since, until): `granted_lately`'s count,
    of a window that has ended, so it may be kept."""
    granted = (
        Proposal.remedy_id == remedy_id,
        Proposal.status == Status.GRANTED,
        Proposal.decided_at >= since,
        Proposal.decided_at < until,
    )
    return int(session.scalar(select(func.count()).select_from(Proposal).where(*granted)) or 0)


@dataclass(frozen=True)
class SinceKept:
    """What changed at the edges of a kept window (see `granted_since_kept`)."""

    came: int  # grants since the kept count's end
    left: int  # grants that left the window since
    came_settled: int  # of `came`, those before the settled point
    left_settled: int  # of `left`, those that left before the settled point
    middle: list[Decimal]  # the middle one or two of the newest amounts in the window; none: none


def granted_since_kept(
    session: Session,
    *,
    remedy_id: str,
    kept_until: datetime,
    window: timedelta,
    now: datetime,
    settled: datetime,
    newest: int,
) -> SinceKept:
    """What changed at the edges of a `window` whose count up to `kept_until` is kept: how many
    of the remedy's grants came since `kept_until`, how many left it (those in
    [kept_until - window, now - window)), each also counted only up to `settled` (so the kept
    count can move on to it), and the middle amounts (one, or two for an even count) of the
    `newest` granted since `now - window`, whose median they are. One statement, of two short
    stretches of the index and its end, which sends back one row: not the `newest` amounts, to
    be read one by one and sorted."""
    of = (Proposal.remedy_id == remedy_id, Proposal.status == Status.GRANTED)
    at = Proposal.decided_at

    def counted(start: datetime, end: datetime | None, split: datetime) -> Subquery:
        """One row: the grants in [start, end), and those of them before `split`."""
        span = select(func.count().label("all"), func.count().filter(at < split).label("settled"))
        span = span.select_from(Proposal).where(*of, at >= start)
        return (span if end is None else span.where(at < end)).subquery()

    came = counted(kept_until, None, settled)
    left = counted(kept_until - window, now - window, settled - window)
    amounts = select(Proposal.amount.label("amount")).where(*of, at >= now - window)
    latest = amounts.order_by(at.desc()).limit(newest).cte("latest")
    count = select(func.count()).select_from(latest).scalar_subquery()

    def at_place(place: Any) -> Any:  # the amount at `place` (from 0) in order, as its column reads
        return select(latest.c.amount).order_by(latest.c.amount).offset(place).limit(1).scalar_subquery()

    # (n - 1) / 2 and n / 2 in integers: the same place for an odd count, the two middle ones for an even.
    low, high = at_place((count - 1).self_group().op("/")(2)), at_place(count.op("/")(2))
    row = select(came.c.all, left.c.all, came.c.settled, left.c.settled, count, low, high)
    came_all, left_all, came_settled, left_settled, amounts_read, low_amount, high_amount = session.execute(
        row.select_from(came.join(left, true()))
    ).one()
    middle = [low_amount, high_amount][: 2 - amounts_read % 2] if amounts_read else []
    return SinceKept(int(came_all), int(left_all), int(came_settled), int(left_settled), middle=middle)


def set_precedents(session: Session, rows: Sequence[tuple[int, int, Decimal | None]]) -> None:
    """Freeze the precedent each request carries, (id, count, median) each: one prepared
    statement, executed for each row (taking a request over writes one)."""
    if rows:
        params = [{"of": proposal_id, "count": count, "median": median} for proposal_id, count, median in rows]
        session.connection().execute(_set_precedents(), params)


@functools.cache
def _set_precedents() -> Update:
    return (
        update(Proposal)
        .where(Proposal.id == bindparam("of"))
        .values(precedent_count=bindparam("count"), precedent_median=bindparam("median"))
    )


# --- people ----------------------------------------------------------------------------------


def people(session: Session, *, users: Collection[str]) -> dict[str, Person]:
    if not users:
        return {}
    return {p.user_id: p for p in session.scalars(select(Person).where(Person.user_id.in_(list(users))))}


def known_before(session: Session, *, at: datetime) -> bool:
    """Whether Leeway has any record from before `at`: someone seen on the roster, or a proposal."""
    seen = select(Person.user_id).where(Person.first_seen_at < at).exists()
    proposed = select(Proposal.id).where(Proposal.created_at < at).exists()
    return bool(session.scalar(select(or_(seen, proposed))))


def add_people(session: Session, *, users: Collection[str], at: datetime, welcome: Welcome) -> None:
    """Record people seen for the first time. Someone another instance recorded first is left
    as it has them."""
    if not users:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    rows = [{"user_id": user, "first_seen_at": at, "welcome": welcome} for user in users]
    session.execute(insert(Person).values(rows).on_conflict_do_nothing(index_elements=[Person.user_id]))


def owed_welcome(session: Session, *, users: Collection[str]) -> list[str]:
    if not users:
        return []
    query = select(Person.user_id).where(Person.user_id.in_(list(users)), Person.welcome == Welcome.OWED)
    return list(session.scalars(query))


def claim_welcome(session: Session, *, user: str, at: datetime) -> bool:
    """Conditional: of every instance that tries, one welcomes them, once ever."""
    changed = updated(
        session,
        update(Person)
        .where(Person.user_id == user, Person.welcome == Welcome.OWED)
        .values(welcome=Welcome.SENT, welcomed_at=at),
    )
    return changed == 1


# --- nudges ----------------------------------------------------------------------------------


def proposed_since(session: Session, *, users: Collection[str], since: datetime) -> set[str]:
    """Which of `users` proposed anything of their own since `since` (the proposer-and-time index)."""
    if not users:
        return set()
    query = select(Proposal.proposer).where(Proposal.proposer.in_(list(users)), Proposal.created_at >= since)
    return set(session.scalars(query.distinct()))


def recent_alone_grants(session: Session, *, since: datetime, limit: int) -> list[Example]:
    """The newest grants made within an agent's own authority, newest first (the decisions'
    time index, read from its end)."""
    rows = session.execute(
        select(Proposal, Decision.granted_at)
        .join(Decision, Decision.proposal_id == Proposal.id)
        .where(Decision.tier == Tier.ALONE, Decision.granted_at >= since)
        .order_by(Decision.granted_at.desc(), Decision.id.desc())
        .limit(limit)
    )
    return [
        Example(
            proposer=p.proposer,
            remedy_id=p.remedy_id,
            remedy_label=p.remedy_label,
            amount=p.amount,
            unit=p.unit,
            granted_at=granted_at,
            proposal_id=p.id,
        )
        for p, granted_at in rows
        if p.proposer is not None  # always: a grant within an agent's own authority has its agent
    ]


def claim_nudge(session: Session, *, user: str, now: datetime, after: timedelta) -> bool:
    """Conditional: at most one nudge per `after`, however many instances look at once."""
    changed = updated(
        session,
        update(Person)
        .where(
            Person.user_id == user,
            Person.nudges_off_at.is_(None),
            or_(Person.last_nudged_at.is_(None), Person.last_nudged_at <= now - after),
        )
        .values(last_nudged_at=now),
    )
    return changed == 1


def add_nudge(session: Session, *, user: str, at: datetime, example_proposal_id: int | None) -> None:
    session.add(Nudge(user_id=user, at=at, example_proposal_id=example_proposal_id))
    session.flush()


def nudged_between(session: Session, *, start: datetime, end: datetime) -> int:
    """How many agents were nudged in the period: a number, never who."""
    query = select(func.count(func.distinct(Nudge.user_id))).where(Nudge.at > start, Nudge.at <= end)
    return int(session.scalar(query) or 0)


def nudge_recipient(session: Session, *, message_id: int) -> str | None:
    """Whom the nudge in outbox message `message_id` went to (None: not a nudge)."""
    return session.scalar(
        select(OutboxMessage.channel).where(OutboxMessage.id == message_id, OutboxMessage.kind == OutboxKind.NUDGE)
    )


def stop_nudges(session: Session, *, user: str, at: datetime) -> bool:
    changed = updated(
        session,
        update(Person).where(Person.user_id == user, Person.nudges_off_at.is_(None)).values(nudges_off_at=at),
    )
    return changed == 1
