"""Whom to ask, and no one waits: re-routing unanswered requests and expiring them."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core import authority
from bot.core.authority import Roster
from bot.core.lifecycle import Event, Status
from bot.core.parsing import InputError
from bot.core.policy import Tier
from bot.core.timing import add_working_time, next_open
from bot.core.vocabulary import OutboxKind
from bot.services import records, webhooks
from bot.services.context import Context
from bot.services.results import Refused
from storage import db, queries
from storage.batch import EventRow, Rows, outbox_row
from storage.models import Proposal

# Due requests are taken a chunk at a time, each chunk one short transaction: SQLite's writer
# lock (and PostgreSQL's routing lock) is held for a few milliseconds, never for a whole pass.
DUE_CHUNK = 25
DUE_PER_PASS = 1000  # the rest wait for the next pass


@dataclass
class Around:
    """Who is away, and for the people it was read for, their open asks and when each was last
    asked: read once for one pick, or for a chunk of picks in one transaction (`moved` keeps
    it true after each ask moves). The caller holds the routing lock."""

    away: dict[str, datetime | None]
    open_asks: dict[str, int]
    last_asked: dict[str, datetime]
    # Read only for these (a batch's shortlist, `queries.before_asking`): no one else is picked.
    shortlisted: frozenset[str] | None = None

    @classmethod
    def read(cls, session: Session, *, people: Collection[str], now: datetime) -> Around:
        open_asks, last_asked = queries.asks_of(session, users=people)
        return cls(away=queries.away_users(session, now=now), open_asks=open_asks, last_asked=last_asked)

    def pick(
        self, *, tier: Tier, roster: Roster, proposer: str | None, passed_over: Collection[str] = ()
    ) -> str | None:
        """The fairest pick among the people who may agree and are around (not away, not
        `passed_over`): fewest open asks, then asked longest ago."""
        pool = [u for u in authority.eligible(tier, roster, proposer) if u not in self.away and u not in passed_over]
        if self.shortlisted is not None:
            pool = [u for u in pool if u in self.shortlisted]
        return authority.pick_peer(pool, self.open_asks, self.last_asked)

    def whom_to_ask(self, *, tier: Tier, roster: Roster, proposer: str | None, named: str | None) -> str | Refused:
        """`whom_to_ask`, from these figures: for several new requests in one transaction,
        each choosing after the ones before it (`asked`). Raises InputError as it does."""
        if named is not None:
            return named_if_around(tier=tier, roster=roster, proposer=proposer, named=named, away=self.away)
        return _someone(tier, proposer, self.pick(tier=tier, roster=roster, proposer=proposer))

    def asked(self, to: str, *, at: datetime) -> None:
        """Keep the figures as the database now has them, after a request made `at` asked `to`
        (`ask_load`'s triggers: one more open ask, and the latest time)."""
        self.open_asks[to] = self.open_asks.get(to, 0) + 1
        if to not in self.last_asked or self.last_asked[to] < at:
            self.last_asked[to] = at

    def moved(self, *, proposal: Proposal, to: str, chunk: ChunkAsks) -> None:
        """Keep the figures as the database will have them, once `proposal`'s ask (one of
        `chunk`'s) moves `to` someone: theirs one more and as late as it; the person it left one
        fewer, and their latest as `chunk` works it out."""
        self.asked(to, at=proposal.created_at)
        left = chunk.move(proposal.id, to)
        if left is None or left == to:
            return
        self.open_asks[left] = self.open_asks.get(left, 1) - 1
        latest = chunk.latest(left)
        if latest is None:
            self.last_asked.pop(left, None)
        else:
            self.last_asked[left] = latest


@dataclass
class ChunkAsks:
    """Whom each of a chunk's requests asks, as the chunk's picks move them, and for each
    person they asked at first, their latest ask outside the chunk: so a person's latest ask
    (`ask_load`'s) is known after each move without reading it again."""

    asking: dict[int, tuple[str | None, datetime]]  # by request: whom it asks, and its time
    outside: dict[str, datetime]

    @classmethod
    def read(cls, session: Session, *, due: Sequence[Proposal]) -> ChunkAsks:
        asking = {p.id: (p.asked, p.created_at) for p in due}
        first = {asked for asked, _ in asking.values() if asked is not None}
        return cls(asking=asking, outside=queries.latest_asked_besides(session, users=first, besides=list(asking)))

    def move(self, proposal_id: int, to: str) -> str | None:
        """Whom the request asked until now."""
        left, at = self.asking[proposal_id]
        self.asking[proposal_id] = (to, at)
        return left

    def latest(self, user: str) -> datetime | None:
        times = [at for asked, at in self.asking.values() if asked == user]
        if user in self.outside:
            times.append(self.outside[user])
        return max(times, default=None)


def pick_someone_around(
    session: Session,
    *,
    tier: Tier,
    roster: Roster,
    proposer: str | None,
    now: datetime,
    passed_over: Collection[str] = (),
) -> str | None:
    """The fairest pick among the people who may agree and are around (not away, not
    `passed_over`): fewest open asks, then asked longest ago. The caller holds the routing lock."""
    around = Around.read(session, people=authority.eligible(tier, roster, proposer), now=now)
    return around.pick(tier=tier, roster=roster, proposer=proposer, passed_over=passed_over)


def whom_to_ask(
    session: Session, *, tier: Tier, roster: Roster, proposer: str | None, named: str | None, now: datetime
) -> str | Refused:
    """The person a new request asks: the one it names, if they may agree and are around, or
    else someone fair. Raises InputError for a named person who can't be asked."""
    if named is not None:
        away = queries.away_users(session, now=now)
        return named_if_around(tier=tier, roster=roster, proposer=proposer, named=named, away=away)
    return _someone(tier, proposer, pick_someone_around(session, tier=tier, roster=roster, proposer=proposer, now=now))


def named_if_around(
    *, tier: Tier, roster: Roster, proposer: str | None, named: str, away: Mapping[str, datetime | None]
) -> str:
    """The person a request names, if they may agree and are not `away`; else InputError."""
    why_not = authority.refusal(tier, roster, proposer, named)
    if why_not:
        who = "you" if named == proposer else f"<@{named}>"
        raise InputError(
            f"Leeway can't ask {who} to agree to this: {why_not} "
            "Leave the mention out and Leeway picks someone who can.",
            "peer",
        )
    if named in away:
        raise InputError(
            f"<@{named}> is away{until_words(away[named])}. Leave the mention out and Leeway "
            "picks someone who's around.",
            "peer",
        )
    return named


def _someone(tier: Tier, proposer: str | None, chosen: str | None) -> str | Refused:
    if chosen is None:
        who = "lead" if tier is Tier.LEAD and proposer is not None else "agent or lead"
        return Refused(
            f"There's no other {who} in Leeway's policy who is around to agree to this, so it "
            "can't be routed right now. Ask a lead to add people under `people` in the policy."
        )
    return chosen


def until_words(until: datetime | None) -> str:
    return f" until {until.strftime('%Y-%m-%d %H:%M %Z').strip()}" if until else ""


def expire_due(ctx: Context) -> int:
    """Requests no one answered in time expire: nothing can grant them afterwards."""
    now, expired = ctx.clock(), 0
    with db.reading(ctx.sessions) as session:
        _, first = queries.earliest_deadlines(session)
    if first is None or first > now:
        return 0  # nothing due: no writer lock taken
    for _ in range(DUE_PER_PASS // DUE_CHUNK):
        with ctx.sessions.begin() as session:
            # Expiring changes several people's `ask_load` rows: under the routing lock, like
            # every change of several, so two never take them in opposite orders.
            queries.lock_routing(session)
            due = queries.due_for_expiry(session, now=now, limit=DUE_CHUNK)
            expired += sum(_expire(session, ctx, proposal, now) for proposal in due)
        if len(due) < DUE_CHUNK:
            break
    if expired:
        ctx.wake_sender()
    return expired


def _expire(session: Session, ctx: Context, proposal: Proposal, now: datetime) -> bool:
    if not records.transition(session, proposal_id=proposal.id, event=Event.EXPIRED, decided_at=now, reroute_at=None):
        return False  # decided meanwhile, or another instance expired it
    queries.add_event(session, proposal_id=proposal.id, at=now, kind=Event.EXPIRED, actor=None)
    records.mark(proposal, status=Status.EXPIRED, decided_at=now, reroute_at=None)
    webhooks.decided(session, ctx, proposal, at=now)
    ctx.metrics.outcome(proposal.tier, "expired")
    records.owe_request_update(session, ctx, proposal_id=proposal.id, at=now)
    if proposal.proposer is None:
        return True  # a customer's request no one took up: the product hears of it, no person does
    queries.enqueue(
        session,
        kind=OutboxKind.PROPOSER_NOTE,
        channel=proposal.proposer,
        at=next_open(now, ctx.policy.hours),
        proposal_id=proposal.id,
        dedupe_key=f"{OutboxKind.PROPOSER_NOTE}:{proposal.id}",
    )
    return True


def reroute_due(ctx: Context) -> int:
    """Unanswered requests are offered to the next eligible person who is around.
    The earlier people may still answer; no one is pinged outside working hours."""
    now, hours, policy = ctx.clock(), ctx.policy.hours, ctx.policy
    with db.reading(ctx.sessions) as session:
        unscheduled = queries.unscheduled_requests(session)
        first, _ = queries.earliest_deadlines(session)
    if unscheduled:
        with ctx.sessions.begin() as session:
            queries.adopt_deadlines(
                session,
                reroute_at=add_working_time(now, policy.reroute_after, hours),
                expire_at=add_working_time(now, policy.expire_after, hours),
            )
    if hours is not None and not hours.is_open(now):
        return 0
    if first is None or first > now:
        return 0  # nothing due: no writer lock taken
    roster, moved = ctx.roster(), 0
    for _ in range(DUE_PER_PASS // DUE_CHUNK):
        # Under the routing lock from the first read: another instance's pass, or a new request
        # choosing whom to ask, waits for this chunk and then sees what it did.
        with ctx.sessions.begin() as session:
            queries.lock_routing(session)
            due = queries.due_for_reroute(session, now=now, limit=DUE_CHUNK)
            if due:
                moved += _reroute(session, ctx, due, roster, now)
        if len(due) < DUE_CHUNK:
            break
    if moved:
        ctx.wake_sender()
    return moved


def _reroute(session: Session, ctx: Context, due: list[Proposal], roster: Roster, now: datetime) -> int:
    """Offer each of `due` to the next person, fairly, in one transaction; how many were moved.
    A few statements for the chunk, not a few for each request: a pass shares its process with
    the rest of the bot's work (at a start, a good deal of it), and each round trip waits to win
    the interpreter back."""
    around = Around.read(session, people=roster.everyone(), now=now)
    asked = queries.asked_so_far_of(session, proposal_ids=[p.id for p in due])
    chunk = ChunkAsks.read(session, due=due)
    next_reroute_at = add_working_time(now, ctx.policy.reroute_after, ctx.policy.hours)
    claims: list[tuple[int, datetime, str | None]] = []
    moves: list[tuple[Proposal, str]] = []
    for proposal in due:
        assert proposal.reroute_at is not None
        # Only people not yet asked: no one is pinged twice. Once everyone has been, the
        # request waits in the channel, where anyone eligible can still answer, until it expires.
        chosen = around.pick(
            tier=Tier(proposal.tier), roster=roster, proposer=proposal.proposer, passed_over=asked.get(proposal.id, ())
        )
        claims.append((proposal.id, proposal.reroute_at, chosen or proposal.asked))
        if chosen is not None:  # else no one else is around: try again later
            moves.append((proposal, chosen))
            around.moved(proposal=proposal, to=chosen, chunk=chunk)
    # Each of `due` is locked by this transaction (see `due_for_reroute`), so every claim holds
    # and the picks after it were made on true figures; the claim's WHERE is for safety's sake.
    claimed = queries.claim_reroutes(session, claims=claims, next_reroute_at=next_reroute_at)
    rows = [
        (proposal.id, _rerouted(ctx, proposal, to=chosen, now=now))
        for proposal, chosen in moves
        if proposal.id in claimed
    ]
    queries.add_rows(session, rows)
    return len(rows)


def _rerouted(ctx: Context, proposal: Proposal, *, to: str, now: datetime) -> Rows:
    """What a request offered on to `to` writes: its history's line, the ping, and its
    message's update."""
    assert proposal.reroute_at is not None
    requests = ctx.policy.channels.requests
    ping_key = f"{OutboxKind.REROUTE_PING}:{proposal.id}:{proposal.reroute_at.isoformat()}"
    return Rows(
        events=(EventRow(at=now, kind=Event.ASKED, actor=None, detail={"asked": to, "rerouted_from": proposal.asked}),),
        outbox=(
            outbox_row(
                kind=OutboxKind.REROUTE_PING, channel=requests, at=now, detail={"asked": to}, dedupe_key=ping_key
            ),
            records.request_update(ctx, at=now),
        ),
    )
