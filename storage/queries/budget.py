"""What agents have granted alone against their budgets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import literal, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import AloneBudgetUse, Hundredths
from storage.queries._updates import updated


def spend(session: Session, *, person: str, remedy_id: str, period: date, amount: Decimal, budget: Decimal) -> bool:
    """Spend `amount` of the budget if it fits: one conditional write, as granting is, so two
    simultaneous proposals can't both fit where only one does (on PostgreSQL the second waits
    for the first's row and checks again; on SQLite writers take turns)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(AloneBudgetUse)
        .values(person=person, remedy_id=remedy_id, period_start=period, used=Decimal(0))
        .on_conflict_do_nothing()
    )
    # Amounts are stored as hundredths: the figures are bound as such, whatever SQL infers.
    adding, most = literal(amount, Hundredths()), literal(budget, Hundredths())
    spent = updated(
        session,
        update(AloneBudgetUse)
        .where(
            AloneBudgetUse.person == person,
            AloneBudgetUse.remedy_id == remedy_id,
            AloneBudgetUse.period_start == period,
            AloneBudgetUse.used + adding <= most,
        )
        .values(used=AloneBudgetUse.used + adding),
    )
    return spent == 1


def used(session: Session, *, person: str, periods: Iterable[tuple[str, date]]) -> dict[str, Decimal]:
    """What `person` has granted alone of each remedy in the given (remedy id, period start)."""
    wanted = list(periods)
    if not wanted:
        return {}
    rows = session.execute(
        select(AloneBudgetUse.remedy_id, AloneBudgetUse.used).where(
            AloneBudgetUse.person == person,
            tuple_(AloneBudgetUse.remedy_id, AloneBudgetUse.period_start).in_(wanted),
        )
    )
    return dict(rows.all())
