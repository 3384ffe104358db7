"""A lead's export is built when it is sent: the period fixed when they asked, at most
MAX_EXPORT_ROWS rows (the oldest), and the message says when the period held more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import sessionmaker

from bot.core.export import MAX_EXPORT_ROWS, DecisionRow
from bot.core.lifecycle import Status
from bot.core.policy import Tier
from bot.core.vocabulary import OutboxKind
from bot.outbox.rendering import UPLOAD, Reader, render
from storage.models import OutboxMessage
from tests.policies import team_policy

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=30)


def rows(count: int) -> list[DecisionRow]:
    return [
        DecisionRow(
            id=n,
            decided_at=SINCE + timedelta(seconds=n),
            status=Status.GRANTED,
            remedy_id="refund",
            remedy="Refund",
            amount=Decimal("10.00"),
            unit="USD",
            case_ref=f"#{n}",
            tier=Tier.ALONE,
            proposer="U0ANA",
            decided_by="U0ANA",
            via=None,
            review=None,
            customer_outcome=None,
        )
        for n in range(1, count + 1)
    ]


def export_of(available: list[DecisionRow]) -> tuple[Any, list[tuple[datetime, datetime, int]]]:
    asked: list[tuple[datetime, datetime, int]] = []

    def decisions(since: datetime, until: datetime, limit: int) -> list[DecisionRow]:
        asked.append((since, until, limit))
        return available[:limit]

    reader = Reader(sessionmaker(), team_policy, lambda _user: None, decisions=decisions)
    message = OutboxMessage(
        id=1,
        kind=OutboxKind.EXPORT,
        channel="U0LEE",
        detail={"since": SINCE.isoformat(), "until": NOW.isoformat(), "days": 30},
    )
    return render(message, reader), asked


def test_the_file_goes_to_the_lead_with_the_period_they_asked_for() -> None:
    delivery, asked = export_of(rows(3))
    assert asked == [(SINCE, NOW, MAX_EXPORT_ROWS + 1)]
    assert delivery.method == UPLOAD
    assert delivery.args["user"] == "U0LEE"
    assert delivery.args["filename"] == "leeway-decisions-2026-11-02-to-2026-12-02.csv"
    assert delivery.args["content"].count("\r\n") == 4
    assert "3 of them" in delivery.args["initial_comment"]
    assert "more than" not in delivery.args["initial_comment"]


def test_a_period_with_more_than_a_file_holds_is_cut_and_says_so() -> None:
    delivery, _ = export_of(rows(MAX_EXPORT_ROWS + 1))
    assert delivery.args["content"].count("\r\n") == MAX_EXPORT_ROWS + 1  # the header, and the oldest rows
    assert f",#{MAX_EXPORT_ROWS}," in delivery.args["content"]
    assert f",#{MAX_EXPORT_ROWS + 1}," not in delivery.args["content"]
    comment = delivery.args["initial_comment"]
    assert f"more than {MAX_EXPORT_ROWS:,} decisions" in comment
    assert "up to 2026-11-03T01:53:20Z" in comment  # the last row's time
    assert "`/remedy export 7d`" in comment


def test_an_empty_period_is_a_kind_word_and_no_file() -> None:
    delivery, _ = export_of([])
    assert delivery.method == "chat.postMessage"
    assert delivery.args["channel"] == "U0LEE"
    assert "No proposals were decided in the last 30 days" in delivery.args["text"]
