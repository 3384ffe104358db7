"""Who may use Leeway at all: the checks the edge asks before it shows a form."""

from __future__ import annotations

from bot.core import authority
from bot.services.context import Context
from bot.services.results import Refused


def may_propose(ctx: Context, *, user: str) -> Refused | None:
    """None when `user` may propose (and so open the proposal form), else why not."""
    why_not = authority.may_propose(ctx.roster(), user)
    return Refused(why_not) if why_not else None
