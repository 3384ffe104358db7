"""Decisions as CSV: the header, RFC 4180 quoting, and free text kept from being a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bot.core.export import DECISION_COLUMNS, DecisionRow, decisions_csv
from bot.core.lifecycle import Status
from bot.core.parsing import Export, InputError, parse_command
from bot.core.policy import Tier
from bot.core.vocabulary import CustomerOutcome, ReviewOutcome, Via
from tests.policies import team_policy


def row(**changes: object) -> DecisionRow:
    values: dict[str, object] = {
        "id": 7,
        "decided_at": datetime(2026, 12, 2, 9, 30, 15, 123456, tzinfo=UTC),
        "status": Status.GRANTED,
        "remedy_id": "refund",
        "remedy": "Refund",
        "amount": Decimal("40.00"),
        "unit": "USD",
        "case_ref": "#4711",
        "tier": Tier.PEER,
        "proposer": "U0ANA",
        "decided_by": "U0BEN",
        "via": Via.BUTTON,
        "review": ReviewOutcome.LOOKS_GOOD,
        "customer_outcome": CustomerOutcome.DELIGHTED,
    }
    values.update(changes)
    return DecisionRow(**values)  # type: ignore[arg-type]


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_the_header_comes_first_in_the_documented_order() -> None:
    assert DECISION_COLUMNS == (
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
    assert decisions_csv([]) == ",".join(DECISION_COLUMNS) + "\r\n"


def test_a_row_reads_back_as_written() -> None:
    text = decisions_csv([row()])
    assert text.endswith("\r\n")
    assert text.count("\r\n") == 2
    header, cells = parsed(text)
    assert dict(zip(header, cells, strict=True)) == {
        "id": "7",
        "decided_at": "2026-12-02T09:30:15Z",
        "status": "granted",
        "remedy_id": "refund",
        "remedy": "Refund",
        "amount": "40.00",
        "unit": "USD",
        "case": "#4711",
        "tier": "peer",
        "proposer": "U0ANA",
        "decided_by": "U0BEN",
        "via": "button",
        "review": "looks_good",
        "customer_outcome": "delighted",
    }


def test_what_is_unknown_is_an_empty_cell_and_times_are_utc() -> None:
    warsaw = timezone(timedelta(hours=1))
    expired = row(
        status=Status.EXPIRED,
        decided_at=datetime(2026, 12, 2, 10, 0, tzinfo=warsaw),
        decided_by=None,
        via=None,
        review=None,
        customer_outcome=None,
    )
    _, cells = parsed(decisions_csv([expired]))
    assert cells[1] == "2026-12-02T09:00:00Z"
    assert cells[2] == "expired"
    assert cells[10:] == ["", "", "", ""]
    # A naive time (as some drivers hand back) is taken as UTC.
    _, cells = parsed(decisions_csv([row(decided_at=datetime(2026, 12, 2, 9, 0))]))
    assert cells[1] == "2026-12-02T09:00:00Z"


def test_commas_quotes_and_line_breaks_are_quoted() -> None:
    text = decisions_csv([row(remedy='Refund, "full"', case_ref="#1\r\n#2")])
    assert '"Refund, ""full"""' in text
    assert '"#1\r\n#2"' in text
    _, cells = parsed(text)
    assert cells[4] == 'Refund, "full"'
    assert cells[7] == "#1\r\n#2"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_free_text_that_a_spreadsheet_would_run_gets_an_apostrophe(start: str) -> None:
    risky = f'{start}HYPERLINK("http://evil.example")'
    _, cells = parsed(decisions_csv([row(case_ref=risky, remedy=risky, proposer=risky, decided_by=risky)]))
    for column in ("remedy", "case", "proposer", "decided_by"):
        assert cells[DECISION_COLUMNS.index(column)] == "'" + risky


def test_ordinary_text_and_numbers_are_left_alone() -> None:
    _, cells = parsed(decisions_csv([row(case_ref="ORD-88", amount=Decimal("7"), unit="days")]))
    assert cells[5:8] == ["7", "days", "ORD-88"]


@pytest.mark.parametrize(
    ("text", "days"),
    [("export", 30), ("export 30d", 30), ("EXPORT 7d", 7), ("export 1d", 1), ("export 365d", 365)],
)
def test_export_takes_a_period_like_the_other_reports(text: str, days: int) -> None:
    assert parse_command(text, team_policy()) == Export(days=days)


@pytest.mark.parametrize("text", ["export 0d", "export 366d", "export month", "export 30"])
def test_an_unreadable_period_says_how_to_write_it(text: str) -> None:
    with pytest.raises(InputError, match=r"Write `/remedy export`, `/remedy export 30d` or `/remedy export 7d`"):
        parse_command(text, team_policy())
