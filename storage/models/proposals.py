"""Proposals, their agreements and history, their audit record, and whom they ask."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.lifecycle import Event, Status
from bot.core.policy import Tier
from bot.core.vocabulary import CustomerOutcome, RequestedBy, ReviewOutcome, Via
from storage.models.base import AGREED, ASKED, ENDED, PENDING, UNREVIEWED, UNSCHEDULED, Base, stored


class Proposal(Base):
    __tablename__ = "proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Slack's trigger or view id: a double submission finds the proposal it already made.
    source_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[Status] = mapped_column(stored(Status, 16))
    remedy_id: Mapped[str] = mapped_column(String(40))
    remedy_label: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(8))  # a currency code, or "days"
    amount: Mapped[Decimal]
    customer_fair: Mapped[Decimal | None]
    case_ref: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text)
    tier: Mapped[Tier] = mapped_column(stored(Tier, 16))
    # None only while a customer's request waits for an agent to take it up (or for a grant the
    # customer served themselves): whoever takes it up becomes its proposer.
    proposer: Mapped[str | None] = mapped_column(String(32))
    asked: Mapped[str | None] = mapped_column(String(32))
    origin_channel: Mapped[str | None] = mapped_column(String(32))
    request_channel: Mapped[str | None] = mapped_column(String(32))
    request_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    # Deadlines in working time; the schedule acts on them (see bot.jobs).
    reroute_at: Mapped[datetime | None]
    expire_at: Mapped[datetime | None]
    # How the team granted this remedy in the 30 days before it was asked for (peer and lead
    # tiers only; None: not asked, or asked before Leeway kept this). Frozen when asked, so the
    # request, its updates and the proposer's reply all say the same.
    precedent_count: Mapped[int | None] = mapped_column(Integer)
    precedent_median: Mapped[Decimal | None]
    # Proposals from the company's own systems (None for those made in Slack): who asked, through
    # which integration, and the customer it is for.
    requested_by: Mapped[RequestedBy | None] = mapped_column(stored(RequestedBy, 16))
    integration: Mapped[str | None] = mapped_column(String(100))
    customer_id: Mapped[str | None] = mapped_column(String(255))
    customer_name: Mapped[str | None] = mapped_column(String(255))

    # A year holds a million proposals and a few thousand pending ones: what the schedule and the
    # Home read is found through indexes of pending rows only (partial: grants within
    # the agent's own authority, most of all rows, never enter them). A query that wants one says
    # `status = 'pending'` in those words (storage.queries: `PENDING`), as SQLite uses a partial
    # index only then. No index of status alone: SQLite, with no statistics, would take it for
    # any pending lookup, and read every pending row.
    __table_args__ = (
        Index("ix_proposal_pending_reroute_at", "reroute_at", "id", sqlite_where=PENDING, postgresql_where=PENDING),
        Index("ix_proposal_pending_expire_at", "expire_at", "id", sqlite_where=PENDING, postgresql_where=PENDING),
        # The pending requests that ask a person (their Home, their going away). `status` as a
        # column too: two equalities, so SQLite prefers it to the one below for `asked = ? AND
        # status = 'pending'`.
        Index(
            "ix_proposal_pending_asked", "asked", "status", "created_at", sqlite_where=PENDING, postgresql_where=PENDING
        ),
        Index("ix_proposal_pending_created_at", "created_at", sqlite_where=PENDING, postgresql_where=PENDING),
        # Requests from before deadlines existed, which each pass looks for (nearly always none).
        Index("ix_proposal_pending_without_deadline", "id", sqlite_where=UNSCHEDULED, postgresql_where=UNSCHEDULED),
        # The latest request that asks a person, one step down the index: what `ask_load`'s
        # triggers look for when an ask moves away from someone.
        Index("ix_proposal_asked_created_at", "asked", "created_at", sqlite_where=ASKED, postgresql_where=ASKED),
        Index("ix_proposal_request_message", "request_channel", "request_ts"),
        Index("ix_proposal_proposer_created_at", "proposer", "created_at"),
        # A remedy's grants lately, and their amounts, for a request's precedent: read from the
        # index alone, however long the history.
        Index("ix_proposal_remedy_status_decided_at", "remedy_id", "status", "decided_at", "amount"),
        # A person's pending requests, and their grants counted from the index alone (kudos).
        Index("ix_proposal_proposer_status_id", "proposer", "status", "id"),
        # Every proposal that ended, by when: an export of the decisions of a period, oldest first.
        Index(
            "ix_proposal_ended_decided_at",
            "decided_at",
            "id",
            sqlite_where=ENDED,
            postgresql_where=ENDED,
        ),
    )


# What a case already has of a remedy (`queries.so_far_on_cases`), whatever its letters' case.
Index("ix_proposal_remedy_case_created_at", Proposal.remedy_id, func.lower(Proposal.case_ref), Proposal.created_at)


class AskLoad(Base):
    """For each person ever asked, how many pending requests ask them now and when the latest
    request that asks them was made: what whom-to-ask weighs, in a row per person rather than
    a count over every pending request. Kept by the database itself, in the same transaction
    as every write of a proposal (triggers on `proposal`, see migration 0009), so no way of
    writing one can leave it behind."""

    __tablename__ = "ask_load"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    open_asks: Mapped[int] = mapped_column(Integer)
    last_asked_at: Mapped[datetime | None]


class Approval(Base):
    """The agreement that granted a proposal: exactly one per granted proposal."""

    __tablename__ = "approval"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), unique=True)
    approver: Mapped[str] = mapped_column(String(32))
    via: Mapped[Via] = mapped_column(stored(Via, 16))
    at: Mapped[datetime]


class ProposalEvent(Base):
    """Append-only history of everything that happened to a proposal."""

    __tablename__ = "proposal_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[Event] = mapped_column(stored(Event, 24))
    actor: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Decision(Base):
    """The audit record of a granted remedy."""

    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), unique=True)
    tier: Mapped[Tier] = mapped_column(stored(Tier, 16))
    agreed_by: Mapped[str | None] = mapped_column(String(32))
    granted_at: Mapped[datetime]
    seconds_to_decision: Mapped[int] = mapped_column(Integer)
    # Reviewed later by a lead, privately (a talk comes with a coaching note to the agent).
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(32))
    review_outcome: Mapped[ReviewOutcome | None] = mapped_column(stored(ReviewOutcome, 16))
    coaching_note: Mapped[str | None] = mapped_column(Text)
    # How the customer took it, as the proposer told it (the latest word counts).
    outcome: Mapped[CustomerOutcome | None] = mapped_column(stored(CustomerOutcome, 16))
    outcome_at: Mapped[datetime | None]

    __table_args__ = (
        # The review queue, oldest first, and its size counted up to a bound.
        Index("ix_decision_unreviewed_granted_at", "granted_at", sqlite_where=UNREVIEWED, postgresql_where=UNREVIEWED),
        Index("ix_decision_granted_at", "granted_at"),
        # What a person agreed to (kudos); decisions made alone agree with no one, and stay out.
        Index("ix_decision_agreed_by", "agreed_by", sqlite_where=AGREED, postgresql_where=AGREED),
        # Usage counts outcomes per remedy over a year: only decisions with one are indexed.
        Index(
            "ix_decision_outcome_granted_at",
            "granted_at",
            postgresql_where=text("outcome IS NOT NULL"),
            sqlite_where=text("outcome IS NOT NULL"),
        ),
    )
