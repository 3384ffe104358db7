"""What Leeway forgets: messages it delivered to Slack long ago (see OUTBOX_RETENTION_DAYS)."""

from __future__ import annotations

from datetime import timedelta

from bot.services.context import Context
from storage import queries

# Deleted a small batch at a time, each its own short transaction, so SQLite's writer lock (which
# every ack waits on) is never held for long; the schedule runs it again and again until it
# has caught up, then it finds a few each time.
FORGET_BATCH = 500


def forget_delivered(ctx: Context, *, keep: timedelta) -> int:
    """Forget one batch of the messages sent, or given up on, more than `keep` ago; how many.
    Safe on every instance at once: a message is deleted once, and what is still owed, or
    belongs to a request still pending, is kept."""
    with ctx.sessions.begin() as session:
        return queries.forget_delivered(session, before=ctx.clock() - keep, limit=FORGET_BATCH)
