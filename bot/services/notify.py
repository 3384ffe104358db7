"""Private lines to one person, through the outbox like every other message."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.core.vocabulary import OutboxKind
from bot.services.context import Context
from storage import queries


def tell(
    ctx: Context,
    *,
    user: str,
    text: str,
    channel: str | None = None,
    response_url: str | None = None,
    dedupe_key: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
) -> None:
    """Queue a private line to one person: through an interaction's response_url (works in any
    channel), else ephemeral in `channel`, else a direct message."""
    try:
        with ctx.sessions.begin() as session:
            if response_url:
                queries.enqueue(
                    session,
                    kind=OutboxKind.RESPONSE,
                    channel=channel or user,
                    user=user,
                    at=ctx.clock(),
                    detail={"text": text, "response_url": response_url, **({"blocks": blocks} if blocks else {})},
                    dedupe_key=dedupe_key,
                )
            elif channel:
                queries.enqueue(
                    session,
                    kind=OutboxKind.EPHEMERAL,
                    channel=channel,
                    user=user,
                    at=ctx.clock(),
                    detail={"text": text},
                    dedupe_key=dedupe_key,
                )
            else:
                detail: dict[str, Any] = {"text": text, **({"blocks": blocks} if blocks else {})}
                queries.enqueue(
                    session, kind=OutboxKind.NOTICE, channel=user, at=ctx.clock(), detail=detail, dedupe_key=dedupe_key
                )
    except IntegrityError:
        if dedupe_key is None:
            raise
        return  # already told: a repeated submission says it once
    ctx.wake_sender()
