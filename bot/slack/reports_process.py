"""A usage report, read and rendered in the reports process (`bot.background`). That process has
its own engine and Leeway context, set up once by `start`; each report brings its window and the
roster from the process serving Slack, whose clock and roster are the ones in force."""

from __future__ import annotations

from datetime import datetime

from bot import services
from bot.clock import system_clock
from bot.core.authority import Roster
from bot.core.policy import Policy
from bot.slack import views
from storage.db import make_engine, make_sessions

_ctx: services.Context | None = None
_roster = Roster(agents=(), leads=())  # the roster the report in hand came with


def start(database_url: str, policy: Policy) -> None:
    global _ctx
    sessions = make_sessions(make_engine(database_url))
    _ctx = services.Context(base_policy=policy, roster=lambda: _roster, sessions=sessions, clock=system_clock)


def usage_message(*, start: datetime, end: datetime, roster: Roster) -> views.Message:
    """The usage of (start, end], ready to post (its blocks as Slack's JSON, which pickles)."""
    global _roster
    assert _ctx is not None, "the reports process is started"
    _roster = roster
    message = usage_reply(_ctx, start=start, end=end)
    return views.Message(text=message.text, rendered=tuple(message.as_kwargs().get("blocks", ())))


def usage_reply(ctx: services.Context, *, start: datetime, end: datetime) -> views.Message:
    return views.usage_message(services.usage_between(ctx, start=start, end=end))
