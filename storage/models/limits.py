"""Limits leads changed on top of the policy file, suggestions set aside, and alone budgets spent."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.policy import Tier
from bot.core.vocabulary import LimitChangeKind
from storage.models.base import Base, stored


class LimitChange(Base):
    """A limit a lead changed, on top of the policy file (which stays the base of record and is
    never rewritten): who, when, which limit, from and to, and the evidence of a raise. The
    effective limits are the file's with the latest change of each since the remedy's last reset."""

    __tablename__ = "limit_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    remedy_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[LimitChangeKind] = mapped_column(stored(LimitChangeKind, 16))
    tier: Mapped[Tier | None] = mapped_column(stored(Tier, 16))  # None for a reset
    # Set for a personal alone limit offered to one agent (shown only to them and to leads).
    person: Mapped[str | None] = mapped_column(String(32))
    from_amount: Mapped[Decimal | None]
    to_amount: Mapped[Decimal | None]
    by: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ix_limit_change_remedy_id_id", "remedy_id", "id"),)


class TrustDismissal(Base):
    """A suggestion a lead set aside with "Not now": not made again for that limit of that remedy
    until its evidence has grown (see core.trust.asked_again)."""

    __tablename__ = "trust_dismissal"

    remedy_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tier: Mapped[Tier] = mapped_column(stored(Tier, 16), primary_key=True)  # the limit it would raise
    decisions: Mapped[int] = mapped_column(Integer)  # the evidence's size when set aside
    by: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]


class AloneBudgetUse(Base):
    """What one agent has granted alone of a remedy in one budget period (see core.budget): the
    counter a grant spends with one conditional write, so simultaneous proposals can't overspend."""

    __tablename__ = "alone_budget_use"

    person: Mapped[str] = mapped_column(String(32), primary_key=True)
    remedy_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    period_start: Mapped[date] = mapped_column(primary_key=True)
    used: Mapped[Decimal]
