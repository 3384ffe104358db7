"""What Leeway forgets: messages it delivered to Slack long ago (see OUTBOX_RETENTION_DAYS)."""

from __future__ import annotations

from datetime import timedelta

from bot.services.context import Context
from storage import queries

# Deleted a small batch at a time, each its own short transaction, so SQLite's writer lock (which
# every ack waits on) is held for milliseconds; the schedule (bot.jobs) comes back for more.
FORGET_BATCH = 200


def forget_delivered(ctx: Context, *, keep: timedelta) -> int:
    """Forget one batch of the messages sent, or given up on, more than `keep` ago; how many.
    Safe on every instance at once: a message is deleted once, and what is still owed, or
    belongs to a request still pending, is kept."""
    with ctx.sessions.begin() as session:
        return queries.forget_delivered(session, before=ctx.clock() - keep, limit=FORGET_BATCH)
