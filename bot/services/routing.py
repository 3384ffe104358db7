"""Whom to ask, and no one waits: re-routing unanswered requests and expiring them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core import authority
from bot.core.authority import Roster
from bot.core.lifecycle import Event, Status
from bot.core.parsing import InputError
from bot.core.policy import Tier
from bot.core.timing import add_working_time, next_open
from bot.core.vocabulary import OutboxKind
from bot.services import records
from bot.services.context import Context
from bot.services.results import Refused
from storage import db, queries

DUE_BATCH = 100


def pick_someone_around(
    session: Session, *, tier: Tier, roster: Roster, proposer: str, now: datetime, passed_over: Collection[str] = ()
) -> str | None:
    """The fairest pick among the people who may agree and are around (not away, not
    `passed_over`): fewest open asks, then asked longest ago. The caller holds the routing lock."""
    away = queries.away_users(session, now=now)
    pool = [u for u in authority.eligible(tier, roster, proposer) if u not in away and u not in passed_over]
    return authority.pick_peer(pool, queries.open_asks(session, users=pool), queries.last_asked(session, users=pool))


def whom_to_ask(
    session: Session, *, tier: Tier, roster: Roster, proposer: str, named: str | None, now: datetime
) -> str | Refused:
    """The person a new request asks: the one it names, if they may agree and are around, or
    else someone fair. Raises InputError for a named person who can't be asked."""
    if named is not None:
        why_not = authority.refusal(tier, roster, proposer, named)
        if why_not:
            who = "you" if named == proposer else f"<@{named}>"
            raise InputError(
                f"Leeway can't ask {who} to agree to this: {why_not} "
                "Leave the mention out and Leeway picks someone who can.",
                "peer",
            )
        away = queries.away_users(session, now=now)
        if named in away:
            raise InputError(
                f"<@{named}> is away{until_words(away[named])}. Leave the mention out and Leeway "
                "picks someone who's around.",
                "peer",
            )
        return named
    chosen = pick_someone_around(session, tier=tier, roster=roster, proposer=proposer, now=now)
    if chosen is None:
        who = "lead" if tier is Tier.LEAD else "agent or lead"
        return Refused(
            f"There's no other {who} in Leeway's policy who is around to agree to this, so it "
            "can't be routed right now. Ask a lead to add people under `people` in the policy."
        )
    return chosen


def until_words(until: datetime | None) -> str:
    return f" until {until.strftime('%Y-%m-%d %H:%M %Z').strip()}" if until else ""


def expire_due(ctx: Context) -> int:
    """Requests no one answered in time expire: nothing can grant them afterwards."""
    now, hours = ctx.clock(), ctx.policy.hours
    with db.reading(ctx.sessions) as session:
        due = [p.id for p in queries.due_for_expiry(session, now=now, limit=DUE_BATCH)]
    expired = 0
    for proposal_id in due:
        with ctx.sessions.begin() as session:
            if not records.transition(
                session,
                proposal_id=proposal_id,
                event=Event.EXPIRED,
                decided_at=now,
                reroute_at=None,
            ):
                continue  # decided meanwhile, or another instance expired it
            proposal = queries.get_proposal(session, proposal_id=proposal_id)
            assert proposal is not None
            queries.add_event(session, proposal_id=proposal_id, at=now, kind=Event.EXPIRED, actor=None)
            ctx.metrics.outcome(proposal.tier, "expired")
            records.owe_request_update(session, ctx, proposal_id=proposal_id, at=now)
            queries.enqueue(
                session,
                kind=OutboxKind.PROPOSER_NOTE,
                channel=proposal.proposer,
                at=next_open(now, hours),
                proposal_id=proposal_id,
                dedupe_key=f"{OutboxKind.PROPOSER_NOTE}:{proposal_id}",
            )
            expired += 1
    if expired:
        ctx.wake_sender()
    return expired


def reroute_due(ctx: Context) -> int:
    """Unanswered requests are offered to the next eligible person who is around.
    The earlier people may still answer; no one is pinged outside working hours."""
    now, hours, policy = ctx.clock(), ctx.policy.hours, ctx.policy
    with ctx.sessions.begin() as session:
        queries.adopt_deadlines(
            session,
            reroute_at=add_working_time(now, policy.reroute_after, hours),
            expire_at=add_working_time(now, policy.expire_after, hours),
        )
    if hours is not None and not hours.is_open(now):
        return 0
    with db.reading(ctx.sessions) as session:
        due = [(p.id, p.reroute_at) for p in queries.due_for_reroute(session, now=now, limit=DUE_BATCH)]
    roster, moved = ctx.roster(), 0
    for proposal_id, was_due_at in due:
        assert was_due_at is not None
        with ctx.sessions.begin() as session:
            queries.lock_routing(session)
            proposal = queries.get_proposal(session, proposal_id=proposal_id)
            if proposal is None or proposal.status != Status.PENDING:
                continue
            # Only people not yet asked: no one is pinged twice. Once everyone has been, the
            # request waits in the channel, where anyone eligible can still answer, until it expires.
            chosen = pick_someone_around(
                session,
                tier=Tier(proposal.tier),
                roster=roster,
                proposer=proposal.proposer,
                now=now,
                passed_over=queries.asked_so_far(session, proposal_id=proposal_id),
            )
            if not queries.claim_reroute(
                session,
                proposal_id=proposal_id,
                was_due_at=was_due_at,
                asked=chosen or proposal.asked,
                next_reroute_at=add_working_time(now, policy.reroute_after, hours),
            ):
                continue  # another instance moved it on
            if chosen is None:
                continue  # no one else is around: try again later
            queries.add_event(
                session,
                proposal_id=proposal_id,
                at=now,
                kind=Event.ASKED,
                actor=None,
                detail={"asked": chosen, "rerouted_from": proposal.asked},
            )
            queries.enqueue(
                session,
                kind=OutboxKind.REROUTE_PING,
                channel=policy.channels.requests,
                at=now,
                proposal_id=proposal_id,
                detail={"asked": chosen},
                dedupe_key=f"{OutboxKind.REROUTE_PING}:{proposal_id}:{was_due_at.isoformat()}",
            )
            records.owe_request_update(session, ctx, proposal_id=proposal_id, at=now)
            moved += 1
    if moved:
        ctx.wake_sender()
    return moved
