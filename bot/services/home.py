"""The App Home: what each person sees at a glance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.core import authority
from bot.core.budget import BudgetUse
from bot.core.lifecycle import Status
from bot.core.policy import Policy, Tier
from bot.core.trust import Suggestion
from bot.core.usage import UsageReport
from bot.core.vocabulary import OutboxKind
from bot.services.budget import budgets_of
from bot.services.context import Context
from bot.services.review import review_queue_size
from bot.services.usage import usage_between
from storage import db, queries
from storage.models import Decision, Proposal


@dataclass(frozen=True)
class Home:
    user: str
    is_agent: bool
    is_lead: bool
    pending: list[Proposal]
    waiting: list[Proposal]
    recent: list[Proposal]
    kudos: int
    review: list[tuple[Proposal, Decision]]
    review_total: int  # past REVIEW_COUNTED_UP_TO, one more than it: "1000+"
    week: UsageReport | None
    suggestions: list[Suggestion] = field(default_factory=list)  # leads: limits ready to move
    budgets: dict[str, BudgetUse] = field(default_factory=dict)  # their use of each alone budget
    limits: Policy | None = None  # the limits as they apply to them (with a personal one)
    to_take_up: list[Proposal] = field(default_factory=list)  # customers' requests no agent has taken up


HOME_LIST = 5


def home(ctx: Context, *, user: str) -> Home:
    roster, now = ctx.roster(), ctx.clock()
    is_lead = roster.is_lead(user)
    ctx.refresh_policy()  # the limits it shows are those in force
    with db.reading(ctx.sessions) as session:
        pending = queries.pending_of(session, proposer=user, limit=HOME_LIST)
        # Everything they may agree to, not only what they were asked: earlier people may still answer.
        waiting = [
            p
            for p in queries.pending_for_others(session, user=user, limit=HOME_LIST * 10)
            if authority.refusal(Tier(p.tier), roster, p.proposer, user) is None
        ][:HOME_LIST]
        recent = [p for p in queries.recent_of(session, user=user, limit=HOME_LIST * 2) if p.status != Status.PENDING][
            :HOME_LIST
        ]
        kudos = queries.kudos_count(session, user=user)
        # Anyone who may propose may take up a customer's request.
        to_take_up = (
            queries.waiting_to_be_taken_up(session, limit=HOME_LIST)
            if authority.may_take_up(roster, user) is None
            else []
        )
        review = queries.review_queue(session, limit=HOME_LIST) if is_lead else []
        review_total = review_queue_size(session) if is_lead else 0
    week = usage_between(ctx, start=now - timedelta(days=7), end=now) if is_lead else None
    return Home(
        user=user,
        is_agent=roster.is_agent(user),
        is_lead=is_lead,
        pending=pending,
        waiting=waiting,
        recent=recent,
        kudos=kudos,
        review=review,
        review_total=review_total,
        week=week,
        suggestions=list(ctx.ready_to_move) if is_lead else [],
        limits=ctx.policy_for(user),
        budgets=budgets_of(ctx, user=user),
        to_take_up=to_take_up,
    )


def refresh_home(ctx: Context, *, user: str) -> None:
    """Queue a fresh render of the person's App Home (rendered from the database when sent)."""
    with ctx.sessions.begin() as session:
        queries.enqueue(session, kind=OutboxKind.HOME, channel=user, at=ctx.clock())
    ctx.wake_sender()
