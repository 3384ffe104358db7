"""Queries. Keyword-only, and none of them commits but `commit_proposals`: the caller owns the transaction."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import String, Table, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from storage.models import Approval, Availability, ChannelPace, Decision, OutboxMessage, Proposal, ProposalEvent

# The rows a proposal writes are plain INSERTs on the session's connection, each sent at once:
# the ORM's unit of work would cost more than the statements themselves on this hot path.
_PROPOSAL, _EVENT, _APPROVAL, _DECISION, _OUTBOX = (
    cast(Table, model.__table__) for model in (Proposal, ProposalEvent, Approval, Decision, OutboxMessage)
)
# The tables whose rows hang off a proposal, by their name in `Rows`.
_CHILD_TABLES = {"events": _EVENT, "approvals": _APPROVAL, "decisions": _DECISION, "outbox": _OUTBOX}


@dataclass(frozen=True)
class Rows:
    """The rows that hang off one proposal, as column values without its id. An outbox row's
    dedupe key may name the proposal before it has an id, as THIS_PROPOSAL."""

    events: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)


THIS_PROPOSAL = "{proposal}"

# A new proposal: its column values, and the rows hanging off it.
NewProposal = tuple[dict[str, Any], Rows]


def add_proposal(session: Session, **fields: Any) -> Proposal:
    """Insert a proposal; returns it as written (detached from the session)."""
    proposal_id = session.connection().execute(insert(_PROPOSAL).returning(_PROPOSAL.c.id), fields).scalar_one()
    return Proposal(id=proposal_id, **fields)


def commit_proposals(sessions: sessionmaker[Session], proposals: Sequence[NewProposal]) -> list[int]:
    """Write several proposals with the rows hanging off each, and commit: all or nothing.
    Returns their ids, in order. The one query here that owns its transaction.

    On PostgreSQL it is one statement, atomic by itself, so it runs without a transaction around
    it: one round trip, where BEGIN, a statement per table and COMMIT took seven. Under load each
    round trip is a wait to win the interpreter back, and a grant within an agent's own authority
    waits on this write."""
    if not proposals:
        return []
    engine = sessions.kw["bind"]
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            return _add_proposals_in_one_statement(connection, proposals)
    with sessions.begin() as session:
        return add_proposals(session, proposals)


def add_proposals(session: Session, proposals: Sequence[NewProposal]) -> list[int]:
    """Insert several proposals and the rows hanging off each: one statement per table, however
    many proposals. Returns their ids, in order."""
    ids = list(
        session.connection()
        .execute(
            insert(_PROPOSAL).returning(_PROPOSAL.c.id, sort_by_parameter_order=True),
            [fields for fields, _ in proposals],
        )
        .scalars()
    )
    add_rows(session, [(proposal_id, rows) for proposal_id, (_, rows) in zip(ids, proposals, strict=True)])
    return ids


def add_rows(session: Session, rows: Sequence[tuple[int, Rows]]) -> None:
    connection = session.connection()
    for name, table in _CHILD_TABLES.items():
        params = [_of_proposal(row, proposal_id) for proposal_id, of in rows for row in getattr(of, name)]
        if params:
            # RETURNING has SQLAlchemy send the rows as one multi-row INSERT ("insertmanyvalues"):
            # one round trip, where the driver's executemany may take several.
            connection.execute(insert(table).returning(table.c.id), params)


def _of_proposal(row: dict[str, Any], proposal_id: int) -> dict[str, Any]:
    row = {**row, "proposal_id": proposal_id}
    if row.get("dedupe_key"):
        row["dedupe_key"] = row["dedupe_key"].replace(THIS_PROPOSAL, str(proposal_id))
    return row


def _add_proposals_in_one_statement(connection: Connection, proposals: Sequence[NewProposal]) -> list[int]:
    """PostgreSQL: every table's rows in one statement of data-modifying CTEs, the proposals'
    ids drawn from their sequence within it. Each table's rows travel as one JSON array that
    `json_populate_recordset` reads with the table's own column types, so a batch of any size
    is the same statement text, which the server prepares once. A child names its proposal by
    its place in the batch (from 1) until the statement swaps in the id."""
    tables = [(_PROPOSAL, [fields for fields, _ in proposals])]
    for name, table in _CHILD_TABLES.items():
        children = [
            {**row, "proposal_id": place}
            for place, (_, rows) in enumerate(proposals, start=1)
            for row in getattr(rows, name)
        ]
        if children:
            tables.append((table, children))
    for table, rows in tables:
        _check_complete(table, rows)
    shape = tuple((table.name, tuple(rows[0])) for table, rows in tables)
    params: dict[str, Any] = {
        f"rows{k}": _json_array(table, rows, connection.dialect) for k, (table, rows) in enumerate(tables)
    }
    params["count"] = len(proposals)
    sql = _insert_all(shape, connection.dialect.identifier_preparer.quote)
    return list(connection.exec_driver_sql(sql, params).scalars())


@functools.lru_cache(maxsize=64)
def _insert_all(shape: tuple[tuple[str, tuple[str, ...]], ...], quote: Callable[[str], str]) -> str:
    """`shape`: each table's name and the columns its rows give, proposals first. Foreign keys
    are checked at the end of the statement, so the children may name ids drawn within it."""
    (parent, _), *_ = shape
    ctes = [
        f"ids AS MATERIALIZED (SELECT place, nextval(pg_get_serial_sequence('{parent}', 'id')) AS id "
        f"FROM generate_series(1, %(count)s) AS place)"
    ]
    for k, (table, names) in enumerate(shape):
        columns = ", ".join(quote(name) for name in names)
        picked = ", ".join(_picked(name, quote) for name in names)
        joined = "ids.place = r.ordinality" if k == 0 else "ids.place = r.proposal_id"
        if k == 0:
            columns, picked = f"id, {columns}", f"ids.id, {picked}"
        ctes.append(
            f"rows{k} AS (INSERT INTO {quote(table)} ({columns}) SELECT {picked} "
            f"FROM json_populate_recordset(NULL::{quote(table)}, %(rows{k})s) WITH ORDINALITY AS r "
            f"JOIN ids ON {joined} ORDER BY r.ordinality)"
        )
    return f"WITH {', '.join(ctes)} SELECT id FROM ids ORDER BY place"


def _picked(name: str, quote: Callable[[str], str]) -> str:
    if name == "proposal_id":
        return "ids.id"
    if name == "dedupe_key":
        return f"replace(r.dedupe_key, '{THIS_PROPOSAL}', ids.id::text)"
    return f"r.{quote(name)}"


def _check_complete(table: Table, rows: list[dict[str, Any]]) -> None:
    """The statement names the columns the first row gives, and no model-side default applies:
    every row must give the same columns, among them every column with a default."""
    names = set(rows[0])
    if missing := _defaulted(table) - names:
        raise ValueError(f"{table.name} rows leave out {sorted(missing)}, which have defaults")
    if any(row.keys() != names for row in rows):
        raise ValueError(f"{table.name} rows give different columns")


@functools.cache
def _defaulted(table: Table) -> frozenset[str]:
    return frozenset(column.name for column in table.c if column.default is not None)


def _json_array(table: Table, rows: list[dict[str, Any]], dialect: Dialect) -> str:
    """Rows as JSON, each value as its column's type would bind it (UTC times, hundredths)."""
    decorated = [(name, kind) for name in rows[0] if isinstance(kind := table.c[name].type, TypeDecorator)]
    if decorated:
        rows = [
            {
                **row,
                **{
                    name: kind.process_bind_param(row[name], dialect)
                    for name, kind in decorated
                    if row[name] is not None
                },
            }
            for row in rows
        ]
    return json.dumps(rows, default=_json_value)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} has no JSON form")


def get_proposal(session: Session, *, proposal_id: int) -> Proposal | None:
    return session.get(Proposal, proposal_id, populate_existing=True)


def proposal_by_source_key(session: Session, *, key: str) -> Proposal | None:
    return session.scalars(select(Proposal).where(Proposal.source_key == key)).first()


def proposal_by_request_message(session: Session, *, channel: str, ts: str) -> Proposal | None:
    return session.scalars(
        select(Proposal).where(Proposal.request_channel == channel, Proposal.request_ts == ts)
    ).first()


def change_status(
    session: Session, *, proposal_id: int, from_statuses: Iterable[str], to_status: str, **values: Any
) -> bool:
    """The one conditional state change: True only for the caller that made it."""
    result = session.execute(
        update(Proposal)
        .where(Proposal.id == proposal_id, Proposal.status.in_(list(from_statuses)))
        .values(status=to_status, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def request_being_posted(session: Session, *, channel: str) -> bool:
    """Is a request to `channel` sent or on its way but not yet recorded with its ts?"""
    query = select(func.count()).select_from(OutboxMessage).join(Proposal, Proposal.id == OutboxMessage.proposal_id)
    query = query.where(
        OutboxMessage.kind == "request",
        OutboxMessage.channel == channel,
        OutboxMessage.status.in_(["pending", "sending"]),
        Proposal.request_ts.is_(None),
    )
    return bool(session.scalar(query))


def set_request_message(session: Session, *, proposal_id: int, channel: str, ts: str) -> None:
    session.execute(
        update(Proposal)
        .where(Proposal.id == proposal_id)
        .values(request_channel=channel, request_ts=ts)
        .execution_options(synchronize_session=False)
    )


def add_event(
    session: Session,
    *,
    proposal_id: int,
    at: datetime,
    kind: str,
    actor: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.connection().execute(
        insert(_EVENT), {"proposal_id": proposal_id, "at": at, "kind": kind, "actor": actor, "detail": detail or {}}
    )


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


def outbox_row(
    *,
    kind: str,
    channel: str,
    at: datetime,
    proposal_id: int | None = None,
    user: str | None = None,
    detail: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> dict[str, Any]:
    """A message owed to Slack, as it is first written: pending, due at `at`."""
    return {
        "kind": kind,
        "channel": channel,
        "user": user,
        "proposal_id": proposal_id,
        "detail": detail or {},
        "dedupe_key": dedupe_key,
        "status": "pending",
        "attempts": 0,
        "created_at": at,
        "next_attempt_at": at,
    }


def enqueue(
    session: Session,
    *,
    kind: str,
    channel: str,
    at: datetime,
    proposal_id: int | None = None,
    user: str | None = None,
    detail: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> None:
    session.connection().execute(
        insert(_OUTBOX),
        outbox_row(
            kind=kind, channel=channel, at=at, proposal_id=proposal_id, user=user, detail=detail, dedupe_key=dedupe_key
        ),
    )


def claim_due(
    session: Session,
    *,
    now: datetime,
    lease_until: datetime,
    limit: int,
    token: str,
    paced: Collection[str] = (),
    unpaced: Collection[str] = (),
    post_interval: timedelta = timedelta(0),
) -> list[OutboxMessage]:
    """Claim due messages for the sender `token`. A claim is a conditional update, so two
    senders (or two instances) never both take one; an expired claim is retaken.

    With a `post_interval`, messages of a `paced` kind go one per channel per interval: only the
    oldest due one in a channel whose slot is free is claimed, and claiming it takes the slot.
    The rest stay pending, untouched, until their channel's next slot. Every query here is an
    index lookup, one per channel with messages waiting: a long line in one channel costs a
    pass nothing."""
    pending_due = (OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now)
    lapsed = (OutboxMessage.status == "sending") & (OutboxMessage.claimed_until < now)
    if not paced or post_interval <= timedelta(0):
        candidates = _ids(session, pending_due, limit) + _ids(session, lapsed, limit)
    else:
        candidates = _ids(session, pending_due & OutboxMessage.kind.in_(unpaced), limit)
        candidates += _ids(session, lapsed & OutboxMessage.kind.in_(unpaced), limit)
        busy = set(session.scalars(select(ChannelPace.channel).where(ChannelPace.next_post_at > now)))
        # A post whose sender died mid-claim keeps its place in its channel's line.
        lapsed_heads: dict[str, int] = {
            channel: first
            for channel, first in session.execute(
                select(OutboxMessage.channel, func.min(OutboxMessage.id))
                .where(lapsed, OutboxMessage.kind.in_(paced))
                .group_by(OutboxMessage.channel)
            )
        }
        heads: list[tuple[int, str]] = []
        for channel in (set(session.scalars(_CHANNELS_WAITING)) | set(lapsed_heads)) - busy:
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
    claimed: list[int] = []
    for message_id in sorted(candidates):
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, pending_due | lapsed)
            .values(status="sending", claimed_until=lease_until, claimed_by=token)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(message_id)
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


def _ids(session: Session, where: Any, limit: int) -> list[int]:
    return list(session.scalars(select(OutboxMessage.id).where(where).order_by(OutboxMessage.id).limit(limit)))


# The channels that have messages waiting, found by hopping along the (status, channel) index
# from one channel to the next rather than reading every waiting message.
_CHANNELS_WAITING = text("""
    WITH RECURSIVE waiting(channel) AS (
        SELECT min(channel) FROM outbox_message WHERE status = 'pending'
        UNION ALL
        SELECT (SELECT min(o.channel) FROM outbox_message o WHERE o.status = 'pending' AND o.channel > w.channel)
        FROM waiting w WHERE w.channel IS NOT NULL
    )
    SELECT channel FROM waiting WHERE channel IS NOT NULL
""").columns(channel=String)


def take_slot(session: Session, *, channel: str, now: datetime, until: datetime) -> bool:
    """Take a channel's posting slot if it is free at `now`, holding it until `until`. One
    conditional upsert: of two instances racing for a slot, exactly one gets it."""
    taken = session.execute(
        _set_pace(session, channel=channel, until=until, where=ChannelPace.next_post_at <= now).returning(
            ChannelPace.channel
        )
    ).first()
    return taken is not None


def _set_pace(session: Session, *, channel: str, until: datetime, where: Any) -> Any:
    """Upsert a channel's next posting time; an existing row changes only when `where` holds."""
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return (
        upsert(ChannelPace)
        .values(channel=channel, next_post_at=until)
        .on_conflict_do_update(index_elements=[ChannelPace.channel], set_={"next_post_at": until}, where=where)
    )


def next_free_slot(session: Session, *, after: datetime, paced: Collection[str]) -> datetime | None:
    """When the next channel with posts waiting for its slot may post again (None: no post waits)."""
    waiting = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.channel == ChannelPace.channel,
            OutboxMessage.kind.in_(paced),
        )
        .exists()
    )
    return session.scalar(select(func.min(ChannelPace.next_post_at)).where(ChannelPace.next_post_at > after, waiting))


def next_attempt(session: Session, *, after: datetime) -> datetime | None:
    """When the next message not yet due (a retry, a deferral) falls due."""
    return session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == "pending", OutboxMessage.next_attempt_at > after
        )
    )


def hold_channel(session: Session, *, channel: str, until: datetime) -> None:
    """Slack asked us to wait (429): no post to this channel before `until`."""
    session.execute(_set_pace(session, channel=channel, until=until, where=ChannelPace.next_post_at < until))


def renew_claim(session: Session, *, message_id: int, token: str, lease_until: datetime) -> bool:
    """Just before sending: still ours? (A slow pass may have outlived its claim.)"""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "sending", OutboxMessage.claimed_by == token)
        .values(claimed_until=lease_until)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _held(message_id: int, token: str) -> Any:
    return (OutboxMessage.id == message_id) & (OutboxMessage.status == "sending") & (OutboxMessage.claimed_by == token)


def mark_sent(
    session: Session, *, message_id: int, token: str, at: datetime, slack_channel: str | None, slack_ts: str | None
) -> bool:
    result = session.execute(
        update(OutboxMessage)
        .where(_held(message_id, token))
        .values(
            status="sent",
            sent_at=at,
            claimed_until=None,
            claimed_by=None,
            slack_channel=slack_channel,
            slack_ts=slack_ts,
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def reschedule(
    session: Session, *, message_id: int, token: str, at: datetime, error: str | None, count_attempt: bool = True
) -> None:
    session.execute(
        update(OutboxMessage)
        .where(_held(message_id, token))
        .values(
            status="pending",
            next_attempt_at=at,
            claimed_until=None,
            claimed_by=None,
            last_error=error,
            attempts=OutboxMessage.attempts + (1 if count_attempt else 0),
        )
        .execution_options(synchronize_session=False)
    )


def mark_failed(session: Session, *, message_id: int, token: str, error: str) -> bool:
    result = session.execute(
        update(OutboxMessage)
        .where(_held(message_id, token))
        .values(
            status="failed", claimed_until=None, claimed_by=None, last_error=error, attempts=OutboxMessage.attempts + 1
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def lock_routing(session: Session) -> None:
    """Serialise choosing whom to ask, so concurrent proposals spread fairly. SQLite's
    BEGIN IMMEDIATE already serialises writers; PostgreSQL needs a transaction lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7352002)"))


def outbox_has(session: Session, *, dedupe_key: str) -> bool:
    return session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None


def outbox_message(session: Session, *, proposal_id: int, kind: str) -> OutboxMessage | None:
    return session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.proposal_id == proposal_id, OutboxMessage.kind == kind)
        .order_by(OutboxMessage.id)
    ).first()


def outbox_backlog(session: Session) -> tuple[int, datetime | None]:
    count, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(OutboxMessage.status.in_(["pending", "sending"]))
    ).one()
    return int(count), oldest


# --- deadlines and availability -------------------------------------------------------------


def adopt_deadlines(session: Session, *, reroute_at: datetime, expire_at: datetime) -> int:
    """Pending proposals from before deadlines existed join the schedule from now."""
    result = session.execute(
        update(Proposal)
        .where(Proposal.status == "pending", Proposal.tier.in_(["peer", "lead"]), Proposal.expire_at.is_(None))
        .values(reroute_at=reroute_at, expire_at=expire_at)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def due_for_reroute(session: Session, *, now: datetime, limit: int) -> list[Proposal]:
    return list(
        session.scalars(
            select(Proposal)
            .where(Proposal.status == "pending", Proposal.reroute_at <= now)
            .order_by(Proposal.reroute_at)
            .limit(limit)
        )
    )


def due_for_expiry(session: Session, *, now: datetime, limit: int) -> list[Proposal]:
    return list(
        session.scalars(
            select(Proposal)
            .where(Proposal.status == "pending", Proposal.expire_at <= now)
            .order_by(Proposal.expire_at)
            .limit(limit)
        )
    )


def claim_reroute(
    session: Session, *, proposal_id: int, was_due_at: datetime, asked: str | None, next_reroute_at: datetime | None
) -> bool:
    """Move the ask on; the WHERE on the old deadline makes two instances act once."""
    result = session.execute(
        update(Proposal)
        .where(Proposal.id == proposal_id, Proposal.status == "pending", Proposal.reroute_at == was_due_at)
        .values(asked=asked, reroute_at=next_reroute_at)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def asked_so_far(session: Session, *, proposal_id: int) -> list[str]:
    """Everyone asked about a proposal, first to last (not someone replaced before being asked)."""
    rows = list(
        session.scalars(
            select(ProposalEvent.detail)
            .where(ProposalEvent.proposal_id == proposal_id, ProposalEvent.kind == "asked")
            .order_by(ProposalEvent.id)
        )
    )
    replaced = {str(d["instead_of"]) for d in rows if d and d.get("instead_of")}
    return [str(d["asked"]) for d in rows if d and d.get("asked") and d["asked"] not in replaced]


def unposted_requests_asking(session: Session, *, user: str) -> list[tuple[Proposal, datetime]]:
    """Pending requests that ask `user` and are not posted yet, each with when it is due to be posted."""
    rows = session.execute(
        select(Proposal, OutboxMessage.next_attempt_at)
        .join(OutboxMessage, OutboxMessage.proposal_id == Proposal.id)
        .where(
            Proposal.asked == user,
            Proposal.status == "pending",
            Proposal.request_ts.is_(None),
            OutboxMessage.kind == "request",
            OutboxMessage.status == "pending",
        )
        .order_by(Proposal.id)
    )
    return [(proposal, due) for proposal, due in rows]


def away_users(session: Session, *, now: datetime) -> dict[str, datetime | None]:
    rows = session.execute(
        select(Availability.user_id, Availability.away_until).where(
            or_(Availability.away_until.is_(None), Availability.away_until > now)
        )
    )
    return {user: until for user, until in rows}


def set_away(session: Session, *, user: str, since: datetime, until: datetime | None) -> None:
    existing = session.get(Availability, user)
    if existing is None:
        session.add(Availability(user_id=user, away_since=since, away_until=until))
    else:
        existing.away_since, existing.away_until = since, until


def set_back(session: Session, *, user: str) -> bool:
    existing = session.get(Availability, user)
    if existing is None:
        return False
    session.delete(existing)
    return True


def pending_of(session: Session, *, proposer: str, case_ref: str | None = None) -> list[Proposal]:
    query = select(Proposal).where(Proposal.proposer == proposer, Proposal.status == "pending")
    if case_ref is not None:
        query = query.where(func.lower(Proposal.case_ref) == case_ref.lower())
    return list(session.scalars(query.order_by(Proposal.id)))


# --- review and usage ----------------------------------------------------------------------------


def review_queue(session: Session, *, limit: int) -> list[tuple[Proposal, Decision]]:
    rows = session.execute(
        select(Proposal, Decision)
        .join(Decision, Decision.proposal_id == Proposal.id)
        .where(Decision.reviewed_at.is_(None))
        .order_by(Decision.granted_at)
        .limit(limit)
    )
    return [(p, d) for p, d in rows]


def review_queue_size(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Decision).where(Decision.reviewed_at.is_(None))) or 0)


def record_review(session: Session, *, proposal_id: int, at: datetime, by: str, outcome: str, note: str | None) -> bool:
    """Conditional: a decision is reviewed once, whoever clicks first."""
    result = session.execute(
        update(Decision)
        .where(Decision.proposal_id == proposal_id, Decision.reviewed_at.is_(None))
        .values(reviewed_at=at, reviewed_by=by, review_outcome=outcome, coaching_note=note)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def granted_between(session: Session, *, start: datetime, end: datetime) -> list[tuple[Proposal, Decision]]:
    rows = session.execute(
        select(Proposal, Decision)
        .join(Decision, Decision.proposal_id == Proposal.id)
        .where(Decision.granted_at > start, Decision.granted_at <= end)
        .order_by(Decision.granted_at)
    )
    return [(p, d) for p, d in rows]


def recent_of(session: Session, *, user: str, limit: int) -> list[Proposal]:
    return list(
        session.scalars(
            select(Proposal)
            .where(Proposal.proposer == user)
            .order_by(Proposal.created_at.desc(), Proposal.id.desc())
            .limit(limit)
        )
    )


def pending_for_others(session: Session, *, user: str, limit: int) -> list[Proposal]:
    """Pending requests someone else proposed, the ones `user` was asked about first."""
    asked_first = (Proposal.asked == user).desc()
    return list(
        session.scalars(
            select(Proposal)
            .where(Proposal.status == "pending", Proposal.proposer != user, Proposal.tier.in_(["peer", "lead"]))
            .order_by(asked_first, Proposal.created_at)
            .limit(limit)
        )
    )


def kudos_count(session: Session, *, user: str) -> int:
    """Celebrations a person has been part of: as the one who decided, or the one who agreed."""
    query = (
        select(func.count())
        .select_from(Decision)
        .join(Proposal, Proposal.id == Decision.proposal_id)
        .where(or_(Proposal.proposer == user, Decision.agreed_by == user))
    )
    return int(session.scalar(query) or 0)
