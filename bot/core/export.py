"""Decisions as rows for a spreadsheet: the CSV a lead exports (`/remedy export`) and the API's
`GET /api/v1/decisions` serves. Pure: rows in, RFC 4180 text out."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from bot.core.lifecycle import Status
from bot.core.policy import Tier
from bot.core.vocabulary import CustomerOutcome, ReviewOutcome, Via

DECISION_COLUMNS: tuple[str, ...] = (
    "id",
    "decided_at",
    "status",
    "remedy_id",
    "remedy",
    "amount",
    "unit",
    "case",
    "tier",
    "proposer",
    "decided_by",
    "via",
    "review",
    "customer_outcome",
)

# The most rows one export file holds: about 8 MB of CSV, built in memory at send time. A longer
# period is cut there (oldest first), and the message says so.
MAX_EXPORT_ROWS = 50_000

# A cell starting with one of these is read as a formula by Excel, LibreOffice and Google Sheets
# (OWASP's "CSV injection"); a leading apostrophe makes them show it as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class DecisionRow:
    """One proposal that ended (granted, declined, expired or withdrawn), as exported."""

    id: int
    decided_at: datetime
    status: Status
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


def as_text(value: str | None) -> str:
    """Free text in a cell, kept from being read as a formula."""
    if value is None:
        return ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def utc_iso(at: datetime) -> str:
    """ISO 8601 in UTC, to the second: 2026-12-02T09:30:00Z. (A naive time is taken as UTC.)"""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def csv_cells(row: DecisionRow) -> list[str]:
    """A row's cells, in DECISION_COLUMNS' order."""
    return [
        str(row.id),
        utc_iso(row.decided_at),
        str(row.status),
        as_text(row.remedy_id),
        as_text(row.remedy),
        str(row.amount),
        as_text(row.unit),
        as_text(row.case_ref),
        str(row.tier),
        as_text(row.proposer),
        as_text(row.decided_by),
        str(row.via) if row.via is not None else "",
        str(row.review) if row.review is not None else "",
        str(row.customer_outcome) if row.customer_outcome is not None else "",
    ]


def decisions_csv(rows: Iterable[DecisionRow]) -> str:
    """RFC 4180: the header first, CRLF line ends, fields quoted when they need it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(DECISION_COLUMNS)
    writer.writerows(csv_cells(row) for row in rows)
    return out.getvalue()
