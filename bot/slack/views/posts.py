"""What Leeway posts: the request, the decision and the kudos in their channels, the ping to the
next person asked, and the private notes to the proposer (the outcome, a lead's coaching)."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from bot.core.lifecycle import Status
from bot.core.policy import TIER_WORDS, Policy, Tier, format_amount
from bot.core.timing import WorkingHours, working_seconds_between
from bot.core.vocabulary import RequestedBy
from bot.slack import ids
from bot.slack.views.encouragement import precedent_line, tell_customer_line
from bot.slack.views.markup import (
    OUTSIDE_HOURS,
    Message,
    amount_of,
    case,
    duration,
    escape,
    quote,
    seconds_between,
    section,
    time_taken,
    unlinked,
    what,
)
from bot.slack.views.outcomes import outcome_blocks
from storage.models import Decision, Proposal

# The tier of a customer's request no one has taken up yet, in the words of whoever might take it.
WAITING_TIER_WORDS = {
    Tier.ALONE: "within an agent's own authority",
    Tier.PEER: "an agent who takes it up, with a peer",
    Tier.LEAD: "an agent who takes it up, with a lead",
}


def _facts(proposal: Proposal, *, case_url: str | None, with_fair: bool = True) -> SectionBlock:
    tier = Tier(proposal.tier)
    words = WAITING_TIER_WORDS.get(tier) if proposal.proposer is None else None
    fields = [
        MarkdownTextObject(text=f"*Remedy*\n{escape(proposal.remedy_label)}"),
        MarkdownTextObject(text=f"*Amount*\n{amount_of(proposal)}"),
        MarkdownTextObject(text=f"*Case*\n{case(proposal, case_url)}"),
        MarkdownTextObject(text=f"*Tier*\n{tier} ({words or TIER_WORDS[tier]})"),
    ]
    if with_fair and proposal.customer_fair is not None:
        fields.append(
            MarkdownTextObject(text=f"*Customer thinks fair*\n{format_amount(proposal.customer_fair, proposal.unit)}")
        )
    return SectionBlock(fields=fields)


def _story(proposal: Proposal) -> SectionBlock:
    told = "In the customer's words" if proposal.requested_by == RequestedBy.CUSTOMER else "What happened"
    return section(f"*{told}*\n{quote(proposal.summary)}")


# --- the request, in the requests channel ----------------------------------------------------


def _customer(proposal: Proposal) -> str:
    """Who asked, for a customer's request: "Dana Lee (customer 8812)"."""
    name = escape(proposal.customer_name) if proposal.customer_name else "A customer"
    if proposal.customer_id:
        name += f" (customer {escape(proposal.customer_id)})"
    return name


def _where(proposal: Proposal) -> str:
    """Where the customer asked: " in Acme Shop" (nothing when no integration is named)."""
    return f" in {escape(proposal.integration)}" if proposal.integration else ""


def _on_behalf(proposal: Proposal) -> ContextBlock | None:
    if proposal.requested_by != RequestedBy.CUSTOMER:
        return None
    said = f"The customer asked for this themselves: {_customer(proposal)}{_where(proposal)}."
    return ContextBlock(elements=[MarkdownTextObject(text=said)])


def request(
    proposal: Proposal,
    asked_before: Sequence[str] = (),
    *,
    case_url: str | None = None,
    hours: WorkingHours | None = None,
) -> Message:
    """`case_url`: the policy's template, which links the case (see bot.core.links); `hours`:
    the policy's working hours, which the time a decision took counts."""
    status = proposal.status
    if status == Status.GRANTED:
        return _request_granted(proposal, case_url, hours)
    if status != Status.PENDING:
        return _request_closed(proposal, case_url)
    if proposal.proposer is None:
        return _customer_request(proposal, asked_before, case_url)
    who = "a lead" if proposal.tier == Tier.LEAD else "a peer"
    ask = f"<@{proposal.asked}>, can you agree?" if proposal.asked else f"Can {who} agree?"
    proposes = "took up the customer's request for" if proposal.requested_by == RequestedBy.CUSTOMER else "proposes"
    head = f"{ask} <@{proposal.proposer}> {proposes} {what(proposal)} for case *{case(proposal, case_url)}*."
    anyone = "Any lead" if proposal.tier == Tier.LEAD else "Any agent"
    blocks: list[Block] = [
        section(head),
        _facts(proposal, case_url=case_url),
        _story(proposal),
        ActionsBlock(
            block_id=ids.Block.REQUEST_ACTIONS,
            elements=[
                ButtonElement(text="Approve", action_id=ids.Action.APPROVE, value=str(proposal.id), style="primary"),
                ButtonElement(text="Decline", action_id=ids.Action.DECLINE, value=str(proposal.id)),
            ],
        ),
    ]
    lately = precedent_line(proposal)
    if lately:
        blocks.insert(2, ContextBlock(elements=[MarkdownTextObject(text=lately)]))
    behalf = _on_behalf(proposal)
    if behalf is not None:
        blocks.insert(1, behalf)
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(text=f"{anyone} can also agree by reacting :white_check_mark: to this message.")
            ]
        )
    )
    blocks.extend(_also_asked(proposal, asked_before))
    text = (
        f"<@{proposal.asked}>: <@{proposal.proposer}> asks you to agree: {escape(proposal.remedy_label)} "
        f"{amount_of(proposal)} for case {escape(proposal.case_ref)}"
    )
    return Message(text=text, blocks=blocks)


def _also_asked(proposal: Proposal, asked_before: Sequence[str]) -> list[Block]:
    earlier = [u for u in dict.fromkeys(asked_before) if u != proposal.asked]
    if not earlier:
        return []
    still = "take it up" if proposal.proposer is None else "answer"
    said = "Also asked: " + ", ".join(f"<@{u}>" for u in earlier) + f". They can still {still} too."
    return [ContextBlock(elements=[MarkdownTextObject(text=said)])]


def _customer_request(proposal: Proposal, asked_before: Sequence[str], case_url: str | None) -> Message:
    """A customer's request no agent has taken up yet: the customer's own words and figure, and
    Take it for whoever picks it up first."""
    ask = f"<@{proposal.asked}>, could you take it up?" if proposal.asked else "Could someone take it up?"
    head = (
        f":raising_hand: {_customer(proposal)} asked{_where(proposal)} for {what(proposal)} for case "
        f"*{case(proposal, case_url)}*. {ask}"
    )
    blocks: list[Block] = [
        section(head),
        _facts(proposal, case_url=case_url),
        _story(proposal),
        ActionsBlock(
            block_id=ids.Block.REQUEST_ACTIONS,
            elements=[
                ButtonElement(text="Take it", action_id=ids.Action.TAKE_IT, value=str(proposal.id), style="primary")
            ],
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Any agent can take it up, with the button or by reacting :white_check_mark:, and it "
                    "becomes your proposal: within your own authority it's granted at once; above it, Leeway asks "
                    "a peer or a lead for you."
                )
            ]
        ),
        *_also_asked(proposal, asked_before),
    ]
    text = (
        f"A customer asked for {escape(proposal.remedy_label)} {amount_of(proposal)} for case "
        f"{escape(proposal.case_ref)}. Could you take it up?"
    )
    if proposal.asked:  # the notification names who is asked, as every request's does
        text = f"<@{proposal.asked}>: {text}"
    return Message(text=text, blocks=blocks)


def decision_took(proposal: Proposal, hours: WorkingHours | None) -> str:
    """How long a proposal took to be decided, in working time, as its decision's record counts it."""
    decided = proposal.decided_at or proposal.created_at
    working = working_seconds_between(proposal.created_at, decided, hours)
    return time_taken(working, waited_seconds=seconds_between(proposal.created_at, decided))


def _request_granted(proposal: Proposal, case_url: str | None, hours: WorkingHours | None) -> Message:
    took = decision_took(proposal, hours)
    when = took if took in ("instantly", OUTSIDE_HOURS) else f"in {took}"
    by = (
        "taken up and granted within their own authority"
        if proposal.decided_by == proposal.proposer
        else f"agreed by <@{proposal.decided_by}>"
    )
    line = (
        f":white_check_mark: *Granted*: <@{proposal.proposer}>'s {what(proposal)} for case "
        f"*{case(proposal, case_url)}*, {by} {when}."
    )
    if proposal.requested_by == RequestedBy.CUSTOMER and proposal.decided_by == proposal.proposer:
        line = (
            f":white_check_mark: *Granted*: <@{proposal.proposer}> took up the customer's request for "
            f"{what(proposal)} for case *{case(proposal, case_url)}* and granted it within their own authority"
            + (" at once." if took == "instantly" else f", {_waited(proposal)} after it came in.")
        )
    return Message(
        text=f"Granted: {escape(proposal.remedy_label)} {amount_of(proposal)} for case "
        f"{escape(proposal.case_ref)}, {by}",
        blocks=[section(line), _facts(proposal, case_url=case_url)],
    )


def _waited(proposal: Proposal) -> str:
    """The customer's wait, by the clock: what they lived through, working hours or not."""
    return duration(seconds_between(proposal.created_at, proposal.decided_at))


def _request_closed(proposal: Proposal, case_url: str | None) -> Message:
    shown = case(proposal, case_url)
    if proposal.status == Status.EXPIRED:
        text = f"This request for case {shown} expired with no answer, so nothing was granted."
    else:
        # Neutral on purpose, and the same for a decline and a withdrawal: a closed request
        # never says who declined, why, or even that anyone did.
        text = f"This request for case {shown} is closed. Nothing more is needed here."
    return Message(text=unlinked(text), blocks=[section(f"_{text}_")])


def reroute_ping(proposal: Proposal, asked: str, *, case_url: str | None = None) -> Message:
    # Mentions only the person now asked: no one is pinged twice, and no one is named as slow.
    if proposal.proposer is None:
        text = (
            f"<@{asked}>, could you take this one up? A customer is waiting for an agent: "
            f"{escape(proposal.remedy_label)} {amount_of(proposal)} for case {escape(proposal.case_ref)}."
        )
        return Message(text=text)
    text = (
        f"<@{asked}>, could you take a look at this one? It's waiting for a second pair of eyes: "
        f"{escape(proposal.remedy_label)} {amount_of(proposal)} for case {case(proposal, case_url)}."
    )
    lately = precedent_line(proposal)
    return Message(text=f"{text} {lately}" if lately else text)


# --- decisions and kudos ---------------------------------------------------------------------


def _self_served_decision(proposal: Proposal, case_url: str | None) -> Message:
    """The audit record of what a customer served themselves: no agent, no one agreed."""
    through = _where(proposal)
    fields = [
        MarkdownTextObject(text=f"*Self-served*\nby the customer{through}"),
        MarkdownTextObject(text=f"*Customer*\n{_customer(proposal)}"),
        MarkdownTextObject(text=f"*Remedy*\n{escape(proposal.remedy_label)}"),
        MarkdownTextObject(text=f"*Amount*\n{amount_of(proposal)}"),
        MarkdownTextObject(text=f"*Case*\n{case(proposal, case_url)}"),
        MarkdownTextObject(text=f"*Tier*\n{Tier.CUSTOMER} ({TIER_WORDS[Tier.CUSTOMER]})"),
    ]
    when = (proposal.decided_at or proposal.created_at).strftime("%Y-%m-%d %H:%M UTC")
    blocks: list[Block] = [
        section(
            f":white_check_mark: {what(proposal)} granted for case *{case(proposal, case_url)}*, self-served by "
            f"the customer{through}"
        ),
        SectionBlock(fields=fields),
        _story(proposal),
        ContextBlock(elements=[MarkdownTextObject(text=f"Decision #{proposal.id} · granted {when} · within policy")]),
    ]
    text = (
        f"Granted: {escape(proposal.remedy_label)} {amount_of(proposal)} for case {escape(proposal.case_ref)}, "
        f"self-served by the customer{through}"
    )
    return Message(text=text, blocks=blocks)


def decision(proposal: Proposal, *, case_url: str | None = None, hours: WorkingHours | None = None) -> Message:
    """The audit record in #decisions; its time to decision counts working `hours` only, as
    the decision's own record does."""
    if proposal.tier == Tier.CUSTOMER:
        return _self_served_decision(proposal, case_url)
    alone = proposal.tier == Tier.ALONE
    agreed = "decided alone, within their own authority" if alone else f"<@{proposal.decided_by}>"
    fields = [
        MarkdownTextObject(text=f"*Agent*\n<@{proposal.proposer}>"),
        MarkdownTextObject(text=f"*Agreed by*\n{agreed}"),
        MarkdownTextObject(text=f"*Remedy*\n{escape(proposal.remedy_label)}"),
        MarkdownTextObject(text=f"*Amount*\n{amount_of(proposal)}"),
        MarkdownTextObject(text=f"*Case*\n{case(proposal, case_url)}"),
        MarkdownTextObject(text=f"*Tier*\n{Tier(proposal.tier)}"),
        MarkdownTextObject(text=f"*Time to decision*\n{decision_took(proposal, hours)}"),
    ]
    if proposal.customer_fair is not None:
        fields.append(
            MarkdownTextObject(text=f"*Customer thought fair*\n{format_amount(proposal.customer_fair, proposal.unit)}")
        )
    when = (proposal.decided_at or proposal.created_at).strftime("%Y-%m-%d %H:%M UTC")
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f":white_check_mark: {what(proposal)} granted for case *{case(proposal, case_url)}*"
            )
        ),
        SectionBlock(fields=fields),
        _story(proposal),
        ContextBlock(elements=[MarkdownTextObject(text=f"Decision #{proposal.id} · granted {when}")]),
    ]
    behalf = _on_behalf(proposal)
    if behalf is not None:
        blocks.insert(2, behalf)
    text = (
        f"Granted: {escape(proposal.remedy_label)} {amount_of(proposal)} for case {escape(proposal.case_ref)} "
        f"by <@{proposal.proposer}>" + ("" if alone else f", agreed by <@{proposal.decided_by}>")
    )
    return Message(text=text, blocks=blocks)


def kudos(proposal: Proposal, *, case_url: str | None = None) -> Message:
    remedy = f"{escape(proposal.remedy_label)}: {amount_of(proposal)}"
    if proposal.tier == Tier.ALONE:
        text = (
            f":tada: <@{proposal.proposer}> used their own authority to fix case {case(proposal, case_url)} "
            f"on the spot ({remedy}). That's exactly what Leeway is for!"
        )
    else:
        text = (
            f":tada: <@{proposal.proposer}> and <@{proposal.decided_by}> fixed case "
            f"{case(proposal, case_url)} together ({remedy}). Thank you for taking care of the customer!"
        )
    return Message(text=unlinked(text), blocks=[section(text)])


# --- private notes to the proposer -----------------------------------------------------------


def proposer_note(proposal: Proposal, policy: Policy) -> Message:
    shown = case(proposal, policy.case_url)
    if proposal.status == Status.GRANTED:
        text = (
            f":white_check_mark: You took up the customer's request: your {what(proposal)} for case *{shown}* "
            "is granted, within your own authority. Go ahead!"
            if proposal.decided_by == proposal.proposer
            else f":white_check_mark: <@{proposal.decided_by}> agreed: your {what(proposal)} for case *{shown}* "
            "is granted. Go ahead!"
        )
        tell = tell_customer_line(policy, proposal.remedy_id)
        if tell:
            text += f"\n{tell}"
        return Message(text=unlinked(text), blocks=[section(text)], rendered=outcome_blocks(proposal.id))
    if proposal.status == Status.EXPIRED:
        text = (
            f"Your {what(proposal)} for case *{shown}* expired before anyone could answer, so nothing was "
            "granted. No one said no: it just didn't reach the right person in time."
        )
        return Message(
            text=unlinked(text),
            blocks=[
                section(text),
                ActionsBlock(
                    block_id=ids.Block.REQUEST_ACTIONS,
                    elements=[
                        ButtonElement(
                            text="Propose again",
                            action_id=ids.Action.PROPOSE_AGAIN,
                            value=str(proposal.id),
                            style="primary",
                        )
                    ],
                ),
            ],
        )
    text = f"Your {what(proposal)} for case *{shown}* wasn't agreed this time."
    if proposal.decline_reason:
        text += f" <@{proposal.decided_by}> said:\n{quote(proposal.decline_reason)}"
    else:
        text += f" <@{proposal.decided_by}> didn't give a reason; feel free to ask them."
    text += "\nYou can talk it through, or propose a different remedy. Only you can see this."
    return Message(text=unlinked(text), blocks=[section(text)])


def coaching_note(proposal: Proposal, decision: Decision | None, *, case_url: str | None = None) -> Message:
    lead = f"<@{decision.reviewed_by}>" if decision and decision.reviewed_by else "Your lead"
    note = quote(decision.coaching_note or "") if decision else ""
    text = (
        f"{lead} looked back at your {what(proposal)} for case *{case(proposal, case_url)}* and would like to "
        f"talk it through:\n{note}\nThis is coaching, not blame: you made a good-faith decision, it stands, "
        "and you never pay for it. Only you can see this."
    )
    return Message(text=unlinked(text), blocks=[section(text)])
