"""What every view is made of: a message, a section that fits, and safe, readable text."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.core.links import case_link, mrkdwn_escape
from bot.core.policy import FUNNEL, TIER_WORDS, Policy, Remedy, format_amount
from storage.models import Proposal


@dataclass(frozen=True)
class Message:
    """Text (the notification fallback) and blocks."""

    text: str
    blocks: list[Block] | None = None
    # Blocks already in Slack's JSON, after `blocks`: the same for many messages but an id, so
    # built once with the models and copied (see views.outcomes).
    rendered: tuple[dict[str, Any], ...] = ()

    def as_kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text}
        if self.blocks or self.rendered:
            out["blocks"] = [b.to_dict() for b in self.blocks or []] + list(self.rendered)
        return out


SECTION_LIMIT = 3000


def section(text: str) -> SectionBlock:
    """A text section, cut to fit Slack's limit (escaping can lengthen what people typed)."""
    return SectionBlock(text=MarkdownTextObject(text=_fitted(text)))


def rendered_section(text: str) -> dict[str, Any]:
    """`section(text)` in Slack's JSON, as `to_dict` gives it: the models render the shape once,
    and each message swaps in its text (the reply to a grant within the agent's own authority
    is the busiest path there is, and building the models took a tenth of its CPU)."""
    shape = _section_shape()
    return {**shape, "text": {**shape["text"], "text": _fitted(text)}}


@functools.cache
def _section_shape() -> dict[str, Any]:
    return section("-").to_dict()


def _fitted(text: str) -> str:
    return text if len(text) <= SECTION_LIMIT else text[: SECTION_LIMIT - 1] + "…"


def chunks(lines: list[str], limit: int = SECTION_LIMIT) -> list[str]:
    """Lines packed into as few sections as Slack's limits allow."""
    packed: list[str] = []
    for line in lines:
        if packed and len(packed[-1]) + 1 + len(line) <= limit:
            packed[-1] += "\n" + line
        else:
            packed.append(line[:limit])
    return packed


def escape(text: str) -> str:
    """What people typed must not turn into mentions or links."""
    return mrkdwn_escape(text)


def case(proposal: Proposal, case_url: str | None) -> str:
    """The proposal's case, linked to the helpdesk when the policy has a `case_url`."""
    return case_link(proposal.case_ref, case_url)


# Leeway's own links (a case's), as case_link writes them; what people typed is escaped, so
# never matches.
_LINK = re.compile(r"<https?://[^|>]*\|([^>]*)>")


def unlinked(text: str) -> str:
    """The text with each link as its label: for a notification's fallback, which shows no links."""
    return _LINK.sub(r"\1", text)


def quote(text: str) -> str:
    return "\n".join("> " + line for line in escape(text).splitlines() or [""])


def amount_of(proposal: Proposal) -> str:
    return format_amount(proposal.amount, proposal.unit)


def what(proposal: Proposal) -> str:
    """ "*Refund: $40*", "*Extend a course: 7 days*": reads right whatever the label."""
    return f"*{escape(proposal.remedy_label)}: {amount_of(proposal)}*"


def duration(seconds: int) -> str:
    if seconds < 1:
        return "instantly"
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def seconds_between(start: datetime, end: datetime | None) -> int:
    return max(0, int(((end or start) - start).total_seconds()))


OUTSIDE_HOURS = "outside working hours"


def time_taken(working_seconds: int, *, waited_seconds: int) -> str:
    """How long a decision took, in working time (`working_seconds`) out of the wait by the clock
    (`waited_seconds`): one that waited only outside working hours says so, not "instantly"."""
    return OUTSIDE_HOURS if working_seconds == 0 and waited_seconds > 0 else duration(working_seconds)


def limits_line(remedy: Remedy, policy: Policy) -> str:
    """ "Refund: on your own up to *$50* · with a peer up to *$150* · with a lead up to *$500*"."""
    parts = []
    for tier in FUNNEL:  # the customer's own tier shows only where the remedy has one
        limit = remedy.limit(tier)
        if limit > 0:
            parts.append(f"{TIER_WORDS[tier]} up to *{policy.format_amount(remedy, limit)}*")
    return f"{escape(remedy.label)}: " + " · ".join(parts)
