"""Private replies: what a use case's result means, in words, for the person who acted; help;
the limits; and what to say when something couldn't be done."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import assert_never

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import services
from bot.core.budget import PERIOD_WORDS, BudgetUse
from bot.core.lifecycle import Status
from bot.core.links import case_link
from bot.core.parsing import USAGE, InputError
from bot.core.policy import FUNNEL, GRANTING_TIERS, TIER_WORDS, CaseSoFar, Policy, Remedy, Tier, format_amount
from bot.core.vocabulary import RequestedBy, ReviewOutcome
from bot.services.routing import until_words
from bot.slack import ids
from bot.slack.views.encouragement import nudges_stopped, precedent_line, tell_customer_line
from bot.slack.views.markup import Message, case, escape, limits_line, rendered_section, section, unlinked, what
from bot.slack.views.outcomes import outcome_blocks
from storage.models import Proposal

# Every result a use case reports to the person who acted. (A decline has no words of its own:
# its form just closes, and the request and the proposer's note say the rest.)
Outcome = (
    services.Granted
    | services.Asked
    | services.OutOfPolicy
    | services.Refused
    | services.AlreadyDecided
    | services.AlreadyTaken
    | services.NotFound
    | services.Withdrawn
    | services.Reviewed
    | services.AlreadyReviewed
    | services.NoSuchDecision
    | services.MarkedAway
    | services.MarkedBack
    | services.NudgesStopped
)

FORM_DID_NOT_OPEN = (
    f"Slack didn't let me open the form in time. Please try again, or type the whole proposal: `{USAGE}`."
)


def outcome_words(result: Outcome, policy: Policy) -> Message:
    """The one place a use case's result becomes words, for the person who acted."""
    match result:
        case services.Granted():
            return already_proposed(result.proposal, policy)
        case services.Asked():
            return asked(result.proposal, policy, result.already, over_budget=result.over_budget)
        case services.OutOfPolicy():
            return out_of_policy(result.remedy, result.amount, policy, already=result.already, case_ref=result.case_ref)
        case services.Refused():
            return Message(text=result.reason)
        case services.AlreadyDecided():
            return Message(text=_already_decided(result.proposal))
        case services.AlreadyTaken():
            return Message(
                text=f"<@{result.proposal.proposer}> took this one up already, so the customer is in good hands. "
                "Thank you for jumping in!"
            )
        case services.NotFound():
            return Message(text="That request no longer exists.")
        case services.Withdrawn():
            return Message(
                text=f"Withdrawn: your {what(result.proposal)} for case *{case(result.proposal, policy.case_url)}*. "
                "Nothing was granted, and no one will be asked about it."
            )
        case services.Reviewed():
            how = "looks good" if result.outcome == ReviewOutcome.LOOKS_GOOD else "you'll talk it through"
            return Message(text=f"Reviewed: <@{result.proposal.proposer}>'s {what(result.proposal)} ({how}).")
        case services.AlreadyReviewed():
            return Message(text="Someone already reviewed that decision.")
        case services.NoSuchDecision():
            return Message(text="That decision no longer exists.")
        case services.MarkedAway():
            return Message(
                text=f":palm_tree: You're away{until_words(result.until)}. Leeway won't ask you to agree to "
                "anything or ping you until then. Type `/remedy back` when you return."
            )
        case services.MarkedBack():
            return Message(
                text="Welcome back! Leeway will ask you again when a peer is needed."
                if result.was_away
                else "You weren't marked away, so nothing changed."
            )
        case services.NudgesStopped():
            return nudges_stopped(result.already)
    assert_never(result)


def _already_decided(proposal: Proposal) -> str:
    if proposal.status == Status.GRANTED:
        if proposal.decided_by is None:  # the customer served themselves
            return "This one is already granted. Thanks for jumping in!"
        if proposal.decided_by == proposal.proposer:  # a customer's request, taken up and granted
            return (
                f"<@{proposal.proposer}> took this one up and granted it already, so the customer is in good "
                "hands. Thanks for jumping in!"
            )
        return f"This one is already granted: <@{proposal.decided_by}> agreed first. Thanks for jumping in!"
    if proposal.status in (Status.DECLINED, Status.WITHDRAWN):
        return "This request is already closed."  # the same words for both: closing says nothing more
    return f"This request is already {proposal.status}; nothing can change it now."


def not_understood(error: InputError) -> Message:
    """A command Leeway couldn't read: what was wrong, and how to write it."""
    return Message(text=f":warning: {error.message}\nUsage: `{USAGE}`, or `/remedy help`.")


def went_wrong(reference: str) -> str:
    """An unexpected failure, with the reference that finds it in the log."""
    return (
        f":warning: Something went wrong on Leeway's side (ref `{reference}`). Nothing was recorded, "
        "so it's safe to try again."
    )


# --- what a proposal did ---------------------------------------------------------------------


def granted_alone(proposal: Proposal, policy: Policy) -> Message:
    text = (
        f":white_check_mark: *Granted — go ahead.* {what(proposal)} for case *{case(proposal, policy.case_url)}* "
        f"is within your own authority. It's recorded in <#{policy.channels.decisions}>, and the team is "
        f"celebrating it in <#{policy.channels.kudos}>."
    )
    tell = tell_customer_line(policy, proposal.remedy_id)
    if tell:
        text += f"\n{tell}"
    return Message(text=unlinked(text), rendered=(rendered_section(text), *outcome_blocks(proposal.id)))


def asked(
    proposal: Proposal, policy: Policy, already: CaseSoFar | None = None, *, over_budget: BudgetUse | None = None
) -> Message:
    """`already`: what the case had of the remedy before, which is why it needs who it needs;
    `over_budget`: the agent's alone budget for it, spent, which is why instead."""
    who = "a lead's" if proposal.tier == Tier.LEAD else "a peer's"
    when = "I've asked"
    hours = policy.hours
    if hours is not None and not hours.is_open(proposal.created_at):
        opens = hours.next_open(proposal.created_at).astimezone(hours.tz).strftime("%a %H:%M")
        when = f"outside working hours, so I'll ask at {opens}:"
    why = (
        f": {_already(already, proposal.unit, case(proposal, policy.case_url))} this needs"
        if already is not None and already.total > 0
        else ". It needs"
    )
    # A customer's request an agent took up is theirs now, but they didn't propose it.
    took = "You took up the customer's request:" if proposal.requested_by == RequestedBy.CUSTOMER else "Proposed"
    text = (
        f":raised_hands: {took} {what(proposal)} for case *{case(proposal, policy.case_url)}*{why} {who} "
        f"agreement, so {when} <@{proposal.asked}> in <#{policy.channels.requests}>. "
        "I'll message you the moment it's decided."
    )
    if over_budget is not None:
        text += "\n" + budget_words(over_budget, proposal.unit, Tier(proposal.tier))
    lately = precedent_line(proposal)
    if lately:
        text += f"\n{lately}"
    return Message(
        text=unlinked(text),
        blocks=[
            section(text),
            ActionsBlock(
                block_id=ids.Block.REQUEST_ACTIONS,
                elements=[ButtonElement(text="Withdraw", action_id=ids.Action.WITHDRAW, value=str(proposal.id))],
            ),
        ],
    )


def budget_words(use: BudgetUse, unit: str, tier: Tier) -> str:
    """Why a proposal within the agent's own limit went to a peer (or a lead), said kindly."""
    period = PERIOD_WORDS[use.budget.per]
    agrees = "a lead will approve it" if tier is Tier.LEAD else "a peer will agree in a moment"
    return (
        f"You've used {format_amount(use.used, unit)} of your {format_amount(use.budget.amount, unit)} {period} "
        f"on your own, so {agrees}. Nothing is wrong: the budget keeps growing authority safe."
    )


def already_proposed(proposal: Proposal, policy: Policy) -> Message:
    if proposal.status == Status.GRANTED and proposal.tier == Tier.ALONE:
        return granted_alone(proposal, policy)
    return (
        asked(proposal, policy)
        if proposal.status == Status.PENDING
        else Message(text=f"That proposal for case {case(proposal, policy.case_url)} is already {proposal.status}.")
    )


def _most(remedy: Remedy, policy: Policy) -> str:
    """Who can grant the most, and how much: a lead, unless the policy skips the lead tier."""
    top = next(t for t in reversed(GRANTING_TIERS) if remedy.limit(t) > 0)
    who = {Tier.LEAD: "a lead can approve", Tier.PEER: "two agents can agree to", Tier.ALONE: "anyone can grant"}
    return f"the most {who[top]} is {policy.format_amount(remedy, remedy.highest_limit)}"


def out_of_policy(
    remedy: Remedy, amount: Decimal, policy: Policy, *, already: CaseSoFar | None = None, case_ref: str = ""
) -> Message:
    """`already`: what the case has of the remedy, when the amount is too much only with it."""
    asked_for = f"*{escape(remedy.label)}: {policy.format_amount(remedy, amount)}*"
    if already is None or already.total == 0:
        text = (
            f"{asked_for} is outside Leeway's policy ({_most(remedy, policy)}), so nothing was routed or granted.\n"
            f"{limits_line(remedy, policy)}\n"
            "You could offer something within these limits, or take this one to your lead directly."
        )
        return Message(text=text, blocks=[section(text)])
    room = remedy.highest_limit - already.total
    text = (
        f"{asked_for} is outside Leeway's policy: "
        f"{_already(already, policy.unit_of(remedy), case_link(case_ref, policy.case_url))} "
        f"it comes to {policy.format_amount(remedy, already.total + amount)}, and {_most(remedy, policy)}. "
        "Nothing was routed or granted.\n"
        f"{limits_line(remedy, policy)}\n"
        + (
            f"You could offer up to {policy.format_amount(remedy, room)} more on this case, or take this one to "
            "your lead directly."
            if room > 0
            else "Nothing more fits on this case for now: take this one to your lead directly."
        )
    )
    return Message(text=unlinked(text), blocks=[section(text)])


def out_of_policy_short(
    remedy: Remedy, amount: Decimal, policy: Policy, *, already: CaseSoFar | None = None, case_ref: str = ""
) -> str:
    """The same, in the line a form shows under the amount."""
    shown = policy.format_amount(remedy, amount)
    if already is None or already.total == 0:
        return f"{shown} is outside policy: {_most(remedy, policy)}."
    with_it = _already(already, policy.unit_of(remedy), escape(case_ref))  # plain text: no link
    return f"{with_it[0].upper()}{with_it[1:]}, {shown} is outside policy: {_most(remedy, policy)}."


def _already(already: CaseSoFar, unit: str, shown_case: str) -> str:
    """Why a case's next proposal needs more: "with the $80 already granted on #99001".
    `shown_case`: the case as it is shown (escaped, or linked)."""
    how = "granted or waiting" if already.waiting > 0 else "granted"
    return f"with the {format_amount(already.total, unit)} already {how} on {shown_case}"


# --- help and limits -------------------------------------------------------------------------


def help_message(policy: Policy) -> Message:
    remedies = ", ".join(f"`{r.id}`" for r in policy.remedies)
    text = (
        "*Leeway lets you fix a customer's problem on the spot.*\n"
        f"`{USAGE}`\n"
        "• Example: `/remedy refund 40 #4711 parcel arrived broken fair:25`\n"
        "• Within your own authority it's granted at once. Above that, Leeway asks one peer (or a lead) "
        "who agrees with a button or a :white_check_mark:. Mention someone to choose who's asked.\n"
        "• `fair:<amount>` records what the customer said would be fair. Ask them: it's often less than you'd think.\n"
        f"• Remedies: {remedies}. A prefix is enough (`ref` for `refund`).\n"
        "• `/remedy` on its own opens a form. `/remedy limits` shows what you may grant.\n"
        "• `/remedy away` (or `away until 2026-12-01`, `away for 3d`) and `/remedy back`: whether Leeway may "
        "ask you to agree. `/remedy withdraw <case>` withdraws your pending request.\n"
        "• Leads: `/remedy review` for decisions to look back on, privately; `/remedy usage [7d|30d]`; "
        "`/remedy trust` for limits the team's decisions are ready to move; `/remedy limits set <remedy> "
        "<alone|peer|lead> <amount>`, `limits history` and `limits reset <remedy>`; `/remedy export [30d]` "
        "for the decisions as a CSV file."
    )
    return Message(text=text, blocks=[section(text)])


def limits_message(policy: Policy, budgets: Mapping[str, BudgetUse] | None = None) -> Message:
    """The limits in force; with `budgets`, what the person has left of each alone budget."""
    blocks: list[Block] = [HeaderBlock(text="What you may grant")]
    lines = []
    for remedy in policy.remedies:
        fields = []
        for tier in FUNNEL if remedy.customer_up_to > 0 else GRANTING_TIERS:
            limit = remedy.limit(tier)
            shown = f"up to {policy.format_amount(remedy, limit)}" if limit > 0 else "—"
            fields.append(MarkdownTextObject(text=f"*{TIER_WORDS[tier].capitalize()}*\n{shown}"))
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=f"*{escape(remedy.label)}* (`{remedy.id}`)"), fields=fields)
        )
        line = limits_line(remedy, policy)
        use = (budgets or {}).get(remedy.id)
        if remedy.alone_budget is not None:
            budget = remedy.alone_budget
            left = f"; {policy.format_amount(remedy, use.left)} left {PERIOD_WORDS[budget.per]}" if use else ""
            said = f"On your own, up to {policy.format_amount(remedy, budget.amount)} a {budget.per.value}{left}."
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=said)]))
            line += f" ({said})"
        lines.append(line)
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Above the lead limit a remedy is out of policy. Decisions made in good faith are never "
                    "charged to you: using your authority is the job."
                )
            ]
        )
    )
    return Message(text="What you may grant:\n" + "\n".join(lines), blocks=blocks)
