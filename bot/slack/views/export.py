"""A lead's export of decisions: the ack, the file's words, and what a quiet period says."""

from __future__ import annotations

from datetime import datetime

from bot.core.export import MAX_EXPORT_ROWS, utc_iso
from bot.slack.views.markup import Message


def _period(days: int) -> str:
    return "the last day" if days == 1 else f"the last {days} days"


def export_on_its_way(days: int) -> Message:
    return Message(
        text=f":inbox_tray: The decisions of {_period(days)} are on their way to you as a CSV file, "
        "in a direct message from Leeway. Only you will get it."
    )


def export_empty(days: int) -> str:
    return (
        f"No proposals were decided in {_period(days)}, so there's no file to send this time. "
        "`/remedy export 90d` looks further back (up to 365d)."
    )


def export_filename(since: datetime, until: datetime) -> str:
    return f"leeway-decisions-{since:%Y-%m-%d}-to-{until:%Y-%m-%d}.csv"


def export_title(days: int) -> str:
    return f"Leeway decisions, {_period(days)}"


def export_comment(days: int, *, count: int, capped_at: datetime | None) -> str:
    """The words that come with the file. `capped_at`: the period held more than the file
    does, whose last decision was made then."""
    text = (
        f"Here are the decisions of {_period(days)}: {count:,} of them, oldest first (granted, declined, "
        "expired and withdrawn), one a row. Times are in UTC. Text that a spreadsheet would read as a "
        "formula starts with an apostrophe."
    )
    if capped_at is not None:
        text += (
            f"\n:warning: The period held more than {MAX_EXPORT_ROWS:,} decisions, so this file stops at the "
            f"oldest {MAX_EXPORT_ROWS:,}, up to {utc_iso(capped_at)}. A shorter period (`/remedy export 7d`) "
            "gives the more recent ones."
        )
    return text
