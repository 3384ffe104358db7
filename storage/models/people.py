"""People: who is away, whom Leeway has seen and welcomed, and the nudges sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.vocabulary import Welcome
from storage.models.base import Base, stored


class Availability(Base):
    """An agent who is away: never picked, never pinged. No row means available."""

    __tablename__ = "availability"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    away_since: Mapped[datetime]
    away_until: Mapped[datetime | None]  # None: until they say they're back


class Person(Base):
    """Someone Leeway has seen on the roster: their one welcome, and their nudges."""

    __tablename__ = "person"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    first_seen_at: Mapped[datetime]
    welcome: Mapped[Welcome] = mapped_column(stored(Welcome, 16))
    welcomed_at: Mapped[datetime | None]
    last_nudged_at: Mapped[datetime | None]
    nudges_off_at: Mapped[datetime | None]  # they clicked "No more of these"


class Nudge(Base):
    """A nudge sent: private to its agent; leads only ever see how many agents were nudged."""

    __tablename__ = "nudge"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    example_proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"))

    __table_args__ = (Index("ix_nudge_at", "at"),)
