"""The typed rows of a new proposal and of what hangs off it, and the tables they fill."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, cast

from sqlalchemy import Table

from bot.core.lifecycle import Event, Status
from bot.core.policy import Tier
from bot.core.vocabulary import OutboxKind, OutboxStatus, RequestedBy, Via
from storage.models import Approval, Decision, OutboxMessage, Proposal, ProposalEvent

# A dedupe key may name its proposal before the proposal has an id.
THIS_PROPOSAL = "{proposal}"


class _Columns:
    """A row to insert: its fields are its table's columns, and it gives their values."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in columns_of(type(self))}


@dataclass(frozen=True, slots=True)
class EventRow(_Columns):
    """A line of a proposal's history."""

    at: datetime
    kind: Event
    actor: str | None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ApprovalRow(_Columns):
    """The agreement that granted a proposal."""

    approver: str
    via: Via
    at: datetime


@dataclass(frozen=True, slots=True)
class DecisionRow(_Columns):
    """The audit record of a grant."""

    tier: Tier
    agreed_by: str | None
    granted_at: datetime
    seconds_to_decision: int


@dataclass(frozen=True, slots=True)
class OutboxRow(_Columns):
    """A message owed to Slack as it is first written (see `outbox_row`)."""

    kind: OutboxKind
    channel: str
    created_at: datetime
    next_attempt_at: datetime
    user: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0


def outbox_row(
    *,
    kind: OutboxKind,
    channel: str,
    at: datetime,
    user: str | None = None,
    detail: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> OutboxRow:
    """A message owed to Slack: pending, due at `at`."""
    return OutboxRow(
        kind=kind,
        channel=channel,
        created_at=at,
        next_attempt_at=at,
        user=user,
        detail=detail or {},
        dedupe_key=dedupe_key,
    )


@dataclass(frozen=True, slots=True)
class Rows:
    """The rows that hang off one proposal, without its id."""

    events: tuple[EventRow, ...] = ()
    approvals: tuple[ApprovalRow, ...] = ()
    decisions: tuple[DecisionRow, ...] = ()
    outbox: tuple[OutboxRow, ...] = ()


@dataclass(frozen=True, slots=True)
class NewProposal(_Columns):
    """A proposal as it is first written, and the rows that hang off it."""

    status: Status
    remedy_id: str
    remedy_label: str
    unit: str
    amount: Decimal
    case_ref: str
    summary: str
    tier: Tier
    proposer: str | None  # None: a customer's request, until an agent takes it up
    created_at: datetime
    customer_fair: Decimal | None = None
    source_key: str | None = None
    asked: str | None = None
    origin_channel: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    reroute_at: datetime | None = None
    expire_at: datetime | None = None
    requested_by: RequestedBy | None = None  # proposals from the company's own systems
    integration: str | None = None
    customer_id: str | None = None
    customer_name: str | None = None
    precedent_count: int | None = None  # a request's: how the team granted its remedy lately
    precedent_median: Decimal | None = None
    rows: Rows = Rows()  # not a column: written to the tables that hang off a proposal


_PROPOSAL, _EVENT, _APPROVAL, _DECISION, _OUTBOX = (
    cast(Table, model.__table__) for model in (Proposal, ProposalEvent, Approval, Decision, OutboxMessage)
)
# Each table that hangs off a proposal: its name in `Rows`, and the row type that fills it.
_CHILDREN: tuple[tuple[str, Table, type[_Columns]], ...] = (
    ("events", _EVENT, EventRow),
    ("approvals", _APPROVAL, ApprovalRow),
    ("decisions", _DECISION, DecisionRow),
    ("outbox", _OUTBOX, OutboxRow),
)


_COLUMNS: dict[type[_Columns], tuple[str, ...]] = {}


def columns_of(row_type: type[_Columns]) -> tuple[str, ...]:
    """The columns a row type gives: its fields, but a proposal's rows."""
    if row_type not in _COLUMNS:
        _COLUMNS[row_type] = tuple(f.name for f in fields(row_type) if f.name != "rows")
    return _COLUMNS[row_type]


def child_values(row: _Columns, proposal_id: int) -> dict[str, Any]:
    """A child row's column values, naming its proposal by id."""
    values = {**row.values(), "proposal_id": proposal_id}
    if values.get("dedupe_key"):
        values["dedupe_key"] = values["dedupe_key"].replace(THIS_PROPOSAL, str(proposal_id))
    return values
