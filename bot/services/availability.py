"""Away and back: the away are never picked and never pinged."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.lifecycle import Event
from bot.core.parsing import InputError
from bot.core.policy import Tier
from bot.services.access import may_propose
from bot.services.context import Context
from bot.services.results import AwayResult, MarkedAway, MarkedBack
from bot.services.routing import pick_someone_around
from storage import queries


def away(ctx: Context, *, user: str, until_day: date | None = None, duration: timedelta | None = None) -> AwayResult:
    """The away are never picked and never pinged. Only agents can be away: no one else is asked."""
    refused = may_propose(ctx, user=user)
    if refused is not None:
        return refused
    now = ctx.clock()
    until: datetime | None = None
    if until_day is not None:  # "until 2026-12-01": back on that day, in the policy's time zone
        until = datetime.combine(until_day, time(0), tzinfo=ctx.policy.tz)
    elif duration is not None:
        until = now + duration
    if until is not None and until <= now:
        raise InputError(
            "That's already in the past. Give a date still to come, like "
            f"`/remedy away until {(now + timedelta(days=7)).date().isoformat()}`."
        )
    try:
        with ctx.sessions.begin() as session:
            _go_away(session, ctx, user=user, now=now, until=until)
    except IntegrityError:  # the same person said it twice at once; the second one updates
        with ctx.sessions.begin() as session:
            _go_away(session, ctx, user=user, now=now, until=until)
    return MarkedAway(until)


def _go_away(session: Session, ctx: Context, *, user: str, now: datetime, until: datetime | None) -> None:
    """Mark `user` away, and hand the requests that would ask them while they are away, and are
    not posted yet (held for working hours, say), to someone who is around."""
    queries.lock_routing(session)
    queries.set_away(session, user=user, since=now, until=until)
    roster = ctx.roster()
    for proposal, posted_at in queries.unposted_requests_asking(session, user=user):
        if until is not None and until <= posted_at:
            continue  # back before the request is posted: it still asks them
        chosen = pick_someone_around(
            session, tier=Tier(proposal.tier), roster=roster, proposer=proposal.proposer, now=now
        )
        if chosen is None or proposal.reroute_at is None:
            continue  # no one else is around: the request waits in the channel for whoever is
        if queries.claim_reroute(
            session,
            proposal_id=proposal.id,
            was_due_at=proposal.reroute_at,
            asked=chosen,
            next_reroute_at=proposal.reroute_at,
        ):
            queries.add_event(
                session,
                proposal_id=proposal.id,
                at=now,
                kind=Event.ASKED,
                actor=None,
                detail={"asked": chosen, "instead_of": user},
            )


def back(ctx: Context, *, user: str) -> MarkedBack:
    with ctx.sessions.begin() as session:
        was_away = queries.set_back(session, user=user)
    return MarkedBack(was_away)
