"""Usage rolled up: running totals through each closed day, and the watermark."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class UsageTotal(Base):
    """Usage from the first day rolled up through `day`, per person and unit (see
    `bot.core.usage.Tally`): a running total, one row for every person and unit seen so far on
    every day rolled up. Usage over whole days is then the difference of two days' rows, so a
    report reads two of them instead of every decision, however long its window or the history.
    A day is the 24 hours after its midnight, that midnight excluded and the next included, as a
    report's window (start, end] is."""

    __tablename__ = "usage_total"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    person: Mapped[str] = mapped_column(String(32), primary_key=True)
    unit: Mapped[str] = mapped_column(String(8), primary_key=True)
    alone: Mapped[int] = mapped_column(Integer)
    with_peer: Mapped[int] = mapped_column(Integer)
    with_lead: Mapped[int] = mapped_column(Integer)
    self_served: Mapped[int] = mapped_column(Integer)  # by the customers themselves (their own row)
    agreements_given: Mapped[int] = mapped_column(Integer)
    value: Mapped[Decimal]
    fair_count: Mapped[int] = mapped_column(Integer)
    granted_where_fair: Mapped[Decimal]
    fair_figures: Mapped[Decimal]
    fair_taken: Mapped[int] = mapped_column(Integer)
    fair_taken_value: Mapped[Decimal]


class UsageTotalTime(Base):
    """Times to decision from the first day rolled up through `day`, per person: how many
    decisions took a time in each step, {"<step's start in seconds>": count}."""

    __tablename__ = "usage_total_time"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    person: Mapped[str] = mapped_column(String(32), primary_key=True)
    steps: Mapped[dict[str, Any]]


class UsageRollup(Base):
    """How far usage is rolled up: every day up to `through` has its totals, none after it.
    One row; moved on by a conditional update, so two instances never roll a day up twice."""

    __tablename__ = "usage_rollup"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    through: Mapped[date] = mapped_column(Date)
