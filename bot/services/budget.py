"""Alone budgets: a grant within the agent's own authority spends their budget for its remedy
in the same transaction, or, past it, goes to a peer; and what is left, for them to see."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from bot.core.budget import BudgetUse, period_start
from bot.core.policy import Remedy
from bot.services.context import Context
from storage import db
from storage.queries import budget as budget_queries


def spend_alone(
    session: Session, ctx: Context, *, remedy: Remedy, proposer: str, amount: Decimal, now: datetime
) -> BudgetUse | None:
    """Spend the proposer's alone budget for the remedy on this grant: None when it fits (or the
    remedy has no budget), else what they have used against it, for the reason they are told."""
    budget = remedy.alone_budget
    if budget is None:
        return None
    period = period_start(now, budget.per, ctx.policy.tz)
    if budget_queries.spend(
        session, person=proposer, remedy_id=remedy.id, period=period, amount=amount, budget=budget.amount
    ):
        return None
    used = budget_queries.used(session, person=proposer, periods=[(remedy.id, period)])
    return BudgetUse(used=used.get(remedy.id, Decimal(0)), budget=budget)


def budgets_of(ctx: Context, *, user: str) -> dict[str, BudgetUse]:
    """Each budgeted remedy's use by `user` this period, for `/remedy limits` and the Home tab."""
    policy, now = ctx.policy, ctx.clock()
    budgets = {r.id: r.alone_budget for r in policy.remedies if r.alone_budget is not None}
    if not budgets:
        return {}
    periods = {remedy_id: period_start(now, budget.per, policy.tz) for remedy_id, budget in budgets.items()}
    with db.reading(ctx.sessions) as session:
        used = budget_queries.used(session, person=user, periods=periods.items())
    return {
        remedy_id: BudgetUse(used=used.get(remedy_id, Decimal(0)), budget=budget)
        for remedy_id, budget in budgets.items()
    }
