"""The decisions as rows to hand on (the API's list, a CSV file): every proposal that ended.

The smallest version of this contract (CONTRACT.md B) the API needs; the full one replaces it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import astuple, dataclass
from datetime import datetime
from decimal import Decimal

from bot.core.lifecycle import Status
from bot.core.policy import Tier
from bot.core.vocabulary import CustomerOutcome, ReviewOutcome, Via


@dataclass(frozen=True)
class DecisionRow:
    id: int
    decided_at: datetime
    status: Status  # granted or declined (or expired/withdrawn: every proposal that ended)
    remedy_id: str
    remedy: str  # its label
    amount: Decimal
    unit: str
    case_ref: str
    tier: Tier
    proposer: str | None
    decided_by: str | None
    via: Via | None
    review: ReviewOutcome | None
    customer_outcome: CustomerOutcome | None


DECISION_COLUMNS: tuple[str, ...] = (
    "id",
    "decided_at",
    "status",
    "remedy_id",
    "remedy",
    "amount",
    "unit",
    "case_ref",
    "tier",
    "proposer",
    "decided_by",
    "via",
    "review",
    "customer_outcome",
)


def decisions_csv(rows: Iterable[DecisionRow]) -> str:
    """RFC 4180 (CRLF line ends), the header first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(DECISION_COLUMNS)
    for row in rows:
        writer.writerow(["" if value is None else _text(value) for value in astuple(row)])
    return out.getvalue()


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)
