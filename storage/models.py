"""Tables. Statuses, tiers and kinds are enums, stored as their string values; times are UTC-aware."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.core.lifecycle import Event, Status
from bot.core.policy import Tier
from bot.core.vocabulary import CustomerOutcome, LimitChangeKind, OutboxKind, OutboxStatus, ReviewOutcome, Via, Welcome

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Hundredths(TypeDecorator[Decimal]):
    """Amounts as whole hundredths: exact on SQLite, which has no decimal type."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, _dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int((Decimal(value) * 100).to_integral_value())

    def process_result_value(self, value: int | None, _dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) / 100).quantize(Decimal("0.01"))


def stored(words: type[StrEnum], length: int) -> Enum:
    """An enum column: the VARCHAR(length) it always was, holding the members' values, read
    back as members. SQLAlchemy's own Enum, made neither a database enum type nor a CHECK
    constraint, renders as that VARCHAR on every database, so the schema (and the comparison
    of the models with the migrations) is unchanged; a new word needs no migration."""
    return Enum(
        words,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


# The conditions of the partial indexes, written as the queries that use them write them.
PENDING = text(f"status = '{Status.PENDING.value}'")
UNSCHEDULED = text(f"status = '{Status.PENDING.value}' AND expire_at IS NULL")
ASKED = text("asked IS NOT NULL")
UNREVIEWED = text("reviewed_at IS NULL")
AGREED = text("agreed_by IS NOT NULL")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        Decimal: Hundredths(),
        dict[str, Any]: JSON(),
    }


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
    proposer: Mapped[str] = mapped_column(String(32))
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


class Availability(Base):
    """An agent who is away: never picked, never pinged. No row means available."""

    __tablename__ = "availability"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    away_since: Mapped[datetime]
    away_until: Mapped[datetime | None]  # None: until they say they're back


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


class AloneBudgetUse(Base):
    """What one agent has granted alone of a remedy in one budget period (see core.budget): the
    counter a grant spends with one conditional write, so simultaneous proposals can't overspend."""

    __tablename__ = "alone_budget_use"

    person: Mapped[str] = mapped_column(String(32), primary_key=True)
    remedy_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    period_start: Mapped[date] = mapped_column(primary_key=True)
    used: Mapped[Decimal]
