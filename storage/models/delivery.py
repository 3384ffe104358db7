"""Delivery to Slack: the outbox, each channel's pace, and reactions kept for requests not posted yet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.vocabulary import OutboxKind, OutboxStatus
from storage.models.base import Base, stored


class OutboxMessage(Base):
    """A message Leeway owes Slack, committed with the change that caused it."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(stored(OutboxKind, 24))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))  # channel ID, or a user ID for a DM
    user: Mapped[str | None] = mapped_column(String(32))  # for ephemeral messages
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(stored(OutboxStatus, 16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(40))  # the sender holding the claim
    sent_at: Mapped[datetime | None]
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_outbox_message_status_next_attempt_at", "status", "next_attempt_at"),
        # The sender's lookups: what is due of a kind, and what waits in each channel (pacing).
        Index("ix_outbox_message_status_kind_next_attempt_at", "status", "kind", "next_attempt_at"),
        Index("ix_outbox_message_status_channel_id", "status", "channel", "id"),
    )


class ChannelPace(Base):
    """When the next post to a channel may go. Shared by every sender and every instance, so a
    channel gets about one post a second in all, however many instances deliver."""

    __tablename__ = "channel_pace"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_post_at: Mapped[datetime]


class EarlyReaction(Base):
    """An agreeing reaction to a message in a channel where a request was being posted, before
    Slack's answer gave Leeway that request's ts. Applied once the ts is recorded, as if it had
    arrived then; one that never matches a request is pruned after a while. The reaction is
    Slack's emoji name, not a word of Leeway's: any of several agree."""

    __tablename__ = "early_reaction"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    user: Mapped[str] = mapped_column(String(32))
    reaction: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]

    __table_args__ = (
        # Slack redelivers an event it thinks was lost, and every instance may receive one: kept once.
        UniqueConstraint("channel", "ts", "user", "reaction"),
        Index("ix_early_reaction_received_at", "received_at"),
    )
