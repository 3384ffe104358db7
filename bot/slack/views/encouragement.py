"""Encouragement, in words: the precedent a request carries, what to tell the customer once it
is granted, the welcome, the nudge, and the one number leads see of nudges."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject

from bot.core.encouragement import PRECEDENT_WINDOW, example_command
from bot.core.policy import Policy, format_amount
from bot.slack import ids
from bot.slack.views.markup import Message, amount_of, escape, limits_line, section
from storage.models import Proposal

ONLY_YOU = "Only you can see this."


def precedent_line(proposal: Proposal) -> str | None:
    """How the team granted this remedy lately, as frozen when it was asked (None: not kept)."""
    count = proposal.precedent_count
    if count is None:
        return None
    days = PRECEDENT_WINDOW.days
    if count == 0:  # nothing to compare with: said plainly, never as a warning
        return f"The first of these for the team in the last {days} days."
    median = format_amount(proposal.precedent_median or Decimal(0), proposal.unit)
    typical = f"for {median}" if count == 1 else f"median {median}"
    return f"The team granted {count} of these in the last {days} days, {typical}; this one is {amount_of(proposal)}."


def tell_customer_line(policy: Policy, remedy_id: str) -> str | None:
    """What the agent tells the customer once it is granted, from the policy (None: nothing set)."""
    remedy = policy.remedy(remedy_id)
    if remedy is None or remedy.tell_customer is None:
        return None
    return f":speech_balloon: *Tell the customer:* {escape(remedy.tell_customer)}"


# --- the welcome -----------------------------------------------------------------------------


def welcome(policy: Policy, user: str, *, lead: bool = False) -> Message:
    """One private welcome for someone new to the roster: what they may grant, per remedy and
    tier, one command to try, and that good-faith decisions are never charged to them."""
    lines = [
        f":wave: *Welcome to Leeway, <@{user}>!* You have the authority to fix a customer's problem on the "
        "spot, without waiting for a manager.",
        "*What you may grant*",
        *(f"• {limits_line(remedy, policy)}" for remedy in policy.remedies),
        f"*Try it:* `{example_command(policy)}`. Or type `/remedy` on its own for a form, and `/remedy help` "
        "for more. Above your own limit, Leeway asks a peer or a lead for you.",
    ]
    if lead:
        lines.append(
            "As a lead, you're asked to agree when a lead is needed, and `/remedy review` shows decisions to "
            "look back on, privately and without blame."
        )
    lines.append(f"No one ever pays for a decision made in good faith: using your authority is the job. {ONLY_YOU}")
    text = "\n".join(lines)
    return Message(text=text, blocks=[section(text)])


# --- the nudge -------------------------------------------------------------------------------


def day_words(at: datetime, now: datetime, tz: ZoneInfo) -> str:
    """ "today", "yesterday", "on Tuesday" within the week, else "on 24 Nov"."""
    then, today = at.astimezone(tz).date(), now.astimezone(tz).date()
    days = (today - then).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"on {then.strftime('%A')}"
    return f"on {then.day} {then.strftime('%b')}"


def nudge(policy: Policy, user: str, example: Mapping[str, str], *, nudge_id: int, at: datetime) -> Message:
    """A private reminder that the agent may decide on their own, with a teammate's recent grant
    as the example (celebrated in the kudos channel already, so naming them is only praise),
    and a button that stops these. `at`: when the nudge was made, for "on Tuesday"."""
    remedy = policy.remedy(example.get("remedy_id", ""))
    if remedy is not None and remedy.alone_up_to > 0 and example.get("proposer"):
        amount = format_amount(Decimal(example["amount"]), example["unit"])
        when = day_words(datetime.fromisoformat(example["granted_at"]), at, policy.tz)
        line = (
            f"<@{example['proposer']}> granted *{escape(example['remedy_label'])}: {amount}* on their own "
            f"{when}; you can too, up to {policy.format_amount(remedy, remedy.alone_up_to)}."
        )
    else:
        alone = [
            f"{escape(r.label)} up to {policy.format_amount(r, r.alone_up_to)}"
            for r in policy.remedies
            if r.alone_up_to
        ]
        line = "On your own you may grant " + (", ".join(alone) or "what `/remedy limits` shows") + "."
    text = (
        f":seedling: Hi <@{user}>, a reminder that you can fix a customer's problem on the spot. {line} "
        f"Type `/remedy` when the next one comes up; no one pays for a decision made in good faith. {ONLY_YOU}"
    )
    blocks: list[Block] = [
        section(text),
        ActionsBlock(
            block_id=ids.Block.NUDGE_ACTIONS,
            elements=[ButtonElement(text="No more of these", action_id=ids.Action.NO_MORE_NUDGES, value=str(nudge_id))],
        ),
    ]
    return Message(text=text, blocks=blocks)


def nudges_stopped(already: bool) -> Message:
    if already:
        return Message(text="You've already turned these reminders off. Nothing more to do.")
    return Message(
        text="Done: no more reminders like this one. `/remedy limits` shows what you may grant whenever you need it."
    )


def nudged_line(count: int) -> str | None:
    """The one thing leads see of nudges: how many agents got one, never who."""
    if count == 0:
        return None
    agents = "agent was" if count == 1 else "agents were"
    return f"{count} {agents} nudged this week, privately, to use their authority. Who is between them and Leeway."


def context_line(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])
