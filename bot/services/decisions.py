"""The decisions of a period: as rows for an export (`/remedy export`, and the API's
`GET /api/v1/decisions`), read in one transaction that only reads; and a lead's export, owed
through the outbox, whose sender builds the file when it sends it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from bot.core.export import DecisionRow
from bot.core.vocabulary import OutboxKind
from bot.services.context import Context
from bot.services.results import ONLY_LEADS_EXPORT, Refused
from storage import db, queries
from storage.queries.decisions import ended_between


def decisions_between(
    ctx: Context,
    *,
    since: datetime,
    until: datetime | None = None,
    limit: int | None = None,
    after_id: int | None = None,
) -> list[DecisionRow]:
    """Every proposal that ended (granted, declined, expired or withdrawn) at `since` or later
    and no later than `until` (None: whenever), oldest first; at most `limit` of them. With
    `after_id`, those that ended at `since` itself only past that id, so a page can start
    exactly where the last one ended, however many decisions share its last instant."""
    with db.reading(ctx.sessions) as session:
        return ended_between(session, since=since, until=until, limit=limit, after_id=after_id)


@dataclass(frozen=True)
class ExportOnItsWay:
    days: int


def request_export(ctx: Context, *, user: str, days: int, key: str) -> ExportOnItsWay | Refused:
    """Owe `user` (a lead) the decisions of the last `days` days as a file. The period is fixed
    now, so a file sent again is the same file; `key` (the command's trigger) makes a repeated
    command owe it once."""
    if not ctx.roster().is_lead(user):
        return Refused(ONLY_LEADS_EXPORT)
    now = ctx.clock()
    detail = {"since": (now - timedelta(days=days)).isoformat(), "until": now.isoformat(), "days": days}
    try:
        with ctx.sessions.begin() as session:
            queries.enqueue(
                session, kind=OutboxKind.EXPORT, channel=user, at=now, detail=detail, dedupe_key=f"export:{key}"
            )
    except IntegrityError:
        pass  # the same command again: the file is already owed
    ctx.wake_sender()
    return ExportOnItsWay(days)
