"""Block Kit rendering, from domain objects to what people read. No decisions here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot import services
from bot.core.parsing import USAGE, Draft
from bot.core.policy import GRANTING_TIERS, TIER_WORDS, Policy, Remedy, Tier, format_amount
from bot.core.usage import UsageReport
from bot.slack import ids
from storage.models import Decision, Proposal


@dataclass(frozen=True)
class Message:
    """Text (the notification fallback) and blocks."""

    text: str
    blocks: list[Block] | None = None

    def as_kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text}
        if self.blocks:
            out["blocks"] = [b.to_dict() for b in self.blocks]
        return out


SECTION_LIMIT = 3000
FORM_DID_NOT_OPEN = (
    f"Slack didn't let me open the form in time. Please try again, or type the whole proposal: `{USAGE}`."
)


def section(text: str) -> SectionBlock:
    """A text section, cut to fit Slack's limit (escaping can lengthen what people typed)."""
    return SectionBlock(
        text=MarkdownTextObject(text=text if len(text) <= SECTION_LIMIT else text[: SECTION_LIMIT - 1] + "…")
    )


def escape(text: str) -> str:
    """What people typed must not turn into mentions or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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


def _facts(proposal: Proposal, *, with_fair: bool = True) -> SectionBlock:
    fields = [
        MarkdownTextObject(text=f"*Remedy*\n{escape(proposal.remedy_label)}"),
        MarkdownTextObject(text=f"*Amount*\n{amount_of(proposal)}"),
        MarkdownTextObject(text=f"*Case*\n{escape(proposal.case_ref)}"),
        MarkdownTextObject(text=f"*Tier*\n{Tier(proposal.tier)} ({TIER_WORDS[Tier(proposal.tier)]})"),
    ]
    if with_fair and proposal.customer_fair is not None:
        fields.append(
            MarkdownTextObject(text=f"*Customer thinks fair*\n{format_amount(proposal.customer_fair, proposal.unit)}")
        )
    return SectionBlock(fields=fields)


def _story(proposal: Proposal) -> SectionBlock:
    return section(f"*What happened*\n{quote(proposal.summary)}")


# --- the request, in the requests channel ----------------------------------------------------


def request(proposal: Proposal, asked_before: Sequence[str] = ()) -> Message:
    status = proposal.status
    if status == "granted":
        return _request_granted(proposal)
    if status != "pending":
        return _request_closed(proposal)
    who = "a lead" if proposal.tier == Tier.LEAD else "a peer"
    ask = f"<@{proposal.asked}>, can you agree?" if proposal.asked else f"Can {who} agree?"
    head = f"{ask} <@{proposal.proposer}> proposes {what(proposal)} for case *{escape(proposal.case_ref)}*."
    anyone = "Any lead" if proposal.tier == Tier.LEAD else "Any agent"
    blocks: list[Block] = [
        section(head),
        _facts(proposal),
        _story(proposal),
        ActionsBlock(
            block_id=ids.Block.REQUEST_ACTIONS,
            elements=[
                ButtonElement(text="Approve", action_id=ids.Action.APPROVE, value=str(proposal.id), style="primary"),
                ButtonElement(text="Decline", action_id=ids.Action.DECLINE, value=str(proposal.id)),
            ],
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(text=f"{anyone} can also agree by reacting :white_check_mark: to this message.")
            ]
        ),
    ]
    earlier = [u for u in dict.fromkeys(asked_before) if u != proposal.asked]
    if earlier:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="Also asked: " + ", ".join(f"<@{u}>" for u in earlier) + ". They can still answer too."
                    )
                ]
            )
        )
    text = (
        f"<@{proposal.asked}>: <@{proposal.proposer}> asks you to agree: {escape(proposal.remedy_label)} "
        f"{amount_of(proposal)} for case {escape(proposal.case_ref)}"
    )
    return Message(text=text, blocks=blocks)


def _request_granted(proposal: Proposal) -> Message:
    took = duration(seconds_between(proposal.created_at, proposal.decided_at))
    when = took if took == "instantly" else f"in {took}"
    line = (
        f":white_check_mark: *Granted*: <@{proposal.proposer}>'s {what(proposal)} for case "
        f"*{escape(proposal.case_ref)}*, agreed by <@{proposal.decided_by}> {when}."
    )
    return Message(
        text=f"Granted: {escape(proposal.remedy_label)} {amount_of(proposal)} for case "
        f"{escape(proposal.case_ref)}, agreed by <@{proposal.decided_by}>",
        blocks=[section(line), _facts(proposal)],
    )


def _request_closed(proposal: Proposal) -> Message:
    case = escape(proposal.case_ref)
    if proposal.status == "expired":
        text = f"This request for case {case} expired with no answer, so nothing was granted."
    else:
        # Neutral on purpose, and the same for a decline and a withdrawal: a closed request
        # never says who declined, why, or even that anyone did.
        text = f"This request for case {case} is closed. Nothing more is needed here."
    return Message(text=text, blocks=[section(f"_{text}_")])


def reroute_ping(proposal: Proposal, asked: str) -> Message:
    # Mentions only the person now asked: no one is pinged twice, and no one is named as slow.
    text = (
        f"<@{asked}>, could you take a look at this one? It's waiting for a second pair of eyes: "
        f"{escape(proposal.remedy_label)} {amount_of(proposal)} for case {escape(proposal.case_ref)}."
    )
    return Message(text=text)


# --- decisions and kudos ---------------------------------------------------------------------


def decision(proposal: Proposal) -> Message:
    seconds = seconds_between(proposal.created_at, proposal.decided_at)
    alone = proposal.tier == Tier.ALONE
    agreed = "decided alone, within their own authority" if alone else f"<@{proposal.decided_by}>"
    fields = [
        MarkdownTextObject(text=f"*Agent*\n<@{proposal.proposer}>"),
        MarkdownTextObject(text=f"*Agreed by*\n{agreed}"),
        MarkdownTextObject(text=f"*Remedy*\n{escape(proposal.remedy_label)}"),
        MarkdownTextObject(text=f"*Amount*\n{amount_of(proposal)}"),
        MarkdownTextObject(text=f"*Case*\n{escape(proposal.case_ref)}"),
        MarkdownTextObject(text=f"*Tier*\n{Tier(proposal.tier)}"),
        MarkdownTextObject(text=f"*Time to decision*\n{duration(seconds)}"),
    ]
    if proposal.customer_fair is not None:
        fields.append(
            MarkdownTextObject(text=f"*Customer thought fair*\n{format_amount(proposal.customer_fair, proposal.unit)}")
        )
    when = (proposal.decided_at or proposal.created_at).strftime("%Y-%m-%d %H:%M UTC")
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f":white_check_mark: {what(proposal)} granted for case *{escape(proposal.case_ref)}*"
            )
        ),
        SectionBlock(fields=fields),
        _story(proposal),
        ContextBlock(elements=[MarkdownTextObject(text=f"Decision #{proposal.id} · granted {when}")]),
    ]
    text = (
        f"Granted: {escape(proposal.remedy_label)} {amount_of(proposal)} for case {escape(proposal.case_ref)} "
        f"by <@{proposal.proposer}>" + ("" if alone else f", agreed by <@{proposal.decided_by}>")
    )
    return Message(text=text, blocks=blocks)


def kudos(proposal: Proposal) -> Message:
    remedy = f"{escape(proposal.remedy_label)}: {amount_of(proposal)}"
    if proposal.tier == Tier.ALONE:
        text = (
            f":tada: <@{proposal.proposer}> used their own authority to fix case {escape(proposal.case_ref)} "
            f"on the spot ({remedy}). That's exactly what Leeway is for!"
        )
    else:
        text = (
            f":tada: <@{proposal.proposer}> and <@{proposal.decided_by}> fixed case "
            f"{escape(proposal.case_ref)} together ({remedy}). Thank you for taking care of the customer!"
        )
    return Message(text=text, blocks=[section(text)])


# --- private words to the proposer -----------------------------------------------------------


def proposer_note(proposal: Proposal) -> Message:
    case = escape(proposal.case_ref)
    if proposal.status == "granted":
        text = (
            f":white_check_mark: <@{proposal.decided_by}> agreed: your {what(proposal)} for case *{case}* "
            "is granted. Go ahead!"
        )
    elif proposal.status == "expired":
        text = (
            f"Your {what(proposal)} for case *{case}* expired before anyone could answer, so nothing was "
            "granted. No one said no: it just didn't reach the right person in time."
        )
        return Message(
            text=text,
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
    else:
        text = f"Your {what(proposal)} for case *{case}* wasn't agreed this time."
        if proposal.decline_reason:
            text += f" <@{proposal.decided_by}> said:\n{quote(proposal.decline_reason)}"
        else:
            text += f" <@{proposal.decided_by}> didn't give a reason; feel free to ask them."
        text += "\nYou can talk it through, or propose a different remedy. Only you can see this."
    return Message(text=text, blocks=[section(text)])


def granted_alone(proposal: Proposal, policy: Policy) -> Message:
    text = (
        f":white_check_mark: *Granted — go ahead.* {what(proposal)} for case *{escape(proposal.case_ref)}* "
        f"is within your own authority. It's recorded in <#{policy.channels.decisions}>, and the team is "
        f"celebrating it in <#{policy.channels.kudos}>."
    )
    return Message(text=text, blocks=[section(text)])


def asked(proposal: Proposal, policy: Policy) -> Message:
    who = "a lead's" if proposal.tier == Tier.LEAD else "a peer's"
    when = "I've asked"
    hours = policy.hours
    if hours is not None and not hours.is_open(proposal.created_at):
        opens = hours.next_open(proposal.created_at).astimezone(hours.tz).strftime("%a %H:%M")
        when = f"outside working hours, so I'll ask at {opens}:"
    text = (
        f":raised_hands: Proposed {what(proposal)} for case *{escape(proposal.case_ref)}*. It needs {who} "
        f"agreement, so {when} <@{proposal.asked}> in <#{policy.channels.requests}>. "
        "I'll message you the moment it's decided."
    )
    return Message(
        text=text,
        blocks=[
            section(text),
            ActionsBlock(
                block_id=ids.Block.REQUEST_ACTIONS,
                elements=[ButtonElement(text="Withdraw", action_id=ids.Action.WITHDRAW, value=str(proposal.id))],
            ),
        ],
    )


def already_proposed(proposal: Proposal, policy: Policy) -> Message:
    if proposal.status == "granted" and proposal.tier == Tier.ALONE:
        return granted_alone(proposal, policy)
    return (
        asked(proposal, policy)
        if proposal.status == "pending"
        else Message(text=f"That proposal for case {escape(proposal.case_ref)} is already {proposal.status}.")
    )


def _most(remedy: Remedy, policy: Policy) -> str:
    """Who can grant the most, and how much: a lead, unless the policy skips the lead tier."""
    top = next(t for t in reversed(GRANTING_TIERS) if remedy.limit(t) > 0)
    who = {Tier.LEAD: "a lead can approve", Tier.PEER: "two agents can agree to", Tier.ALONE: "anyone can grant"}
    return f"the most {who[top]} is {policy.format_amount(remedy, remedy.highest_limit)}"


def out_of_policy(remedy: Remedy, amount: Decimal, policy: Policy) -> Message:
    text = (
        f"*{escape(remedy.label)}: {policy.format_amount(remedy, amount)}* is outside Leeway's "
        f"policy ({_most(remedy, policy)}), so nothing was routed or granted.\n"
        f"{_limits_line(remedy, policy)}\n"
        "You could offer something within these limits, or take this one to your lead directly."
    )
    return Message(text=text, blocks=[section(text)])


def already_decided(proposal: Proposal) -> str:
    if proposal.status == "granted":
        return f"This one is already granted: <@{proposal.decided_by}> agreed first. Thanks for jumping in!"
    if proposal.status in ("declined", "withdrawn"):
        return "This request is already closed."  # the same words for both: closing says nothing more
    return f"This request is already {proposal.status}; nothing can change it now."


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
        "• Leads: `/remedy review` for decisions to look back on, privately; `/remedy usage [7d|30d]`."
    )
    return Message(text=text, blocks=[section(text)])


def _limits_line(remedy: Remedy, policy: Policy) -> str:
    parts = []
    for tier in GRANTING_TIERS:
        limit = remedy.limit(tier)
        if limit > 0:
            parts.append(f"{TIER_WORDS[tier]} up to *{policy.format_amount(remedy, limit)}*")
    return f"{escape(remedy.label)}: " + " · ".join(parts)


def limits_message(policy: Policy) -> Message:
    blocks: list[Block] = [HeaderBlock(text="What you may grant")]
    lines = []
    for remedy in policy.remedies:
        fields = []
        for tier in GRANTING_TIERS:
            limit = remedy.limit(tier)
            shown = f"up to {policy.format_amount(remedy, limit)}" if limit > 0 else "—"
            fields.append(MarkdownTextObject(text=f"*{TIER_WORDS[tier].capitalize()}*\n{shown}"))
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=f"*{escape(remedy.label)}* (`{remedy.id}`)"), fields=fields)
        )
        lines.append(_limits_line(remedy, policy))
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


# --- forms -----------------------------------------------------------------------------------


def _input(
    block_id: ids.Block, label: str, element: Any, *, optional: bool = False, hint: str | None = None
) -> InputBlock:
    return InputBlock(block_id=block_id, label=label, element=element, optional=optional, hint=hint)


def proposal_form(policy: Policy, draft: Draft, *, origin_channel: str | None) -> View:
    options = [Option(value=r.id, label=r.label[:75]) for r in policy.remedies]
    chosen = next((o for o in options if o.value == draft.remedy_id), None)
    remedy = policy.remedy(draft.remedy_id) if draft.remedy_id else None
    amount = policy.format_amount(remedy, draft.amount) if remedy and draft.amount is not None else None
    fair = policy.format_amount(remedy, draft.fair) if remedy and draft.fair is not None else None
    blocks: list[Block] = [
        _input(
            ids.Block.REMEDY,
            "Remedy",
            StaticSelectElement(
                action_id=ids.Action.INPUT, placeholder="Choose a remedy", options=options, initial_option=chosen
            ),
        ),
        _input(
            ids.Block.AMOUNT,
            "Amount",
            PlainTextInputElement(
                action_id=ids.Action.INPUT, initial_value=amount, placeholder="25, $25.50 or 7d for days"
            ),
        ),
        _input(
            ids.Block.CASE,
            "Case reference",
            PlainTextInputElement(
                action_id=ids.Action.INPUT, initial_value=draft.case_ref, placeholder="#4711", max_length=64
            ),
        ),
        _input(
            ids.Block.SUMMARY,
            "What happened",
            PlainTextInputElement(
                action_id=ids.Action.INPUT, initial_value=draft.summary, multiline=True, max_length=1500
            ),
        ),
        _input(
            ids.Block.FAIR,
            "What does the customer think would be fair?",
            PlainTextInputElement(
                action_id=ids.Action.INPUT, initial_value=fair, placeholder="Ask them: it's often less than you'd think"
            ),
            optional=True,
            hint="Ask the customer and note their answer.",
        ),
        _input(
            ids.Block.PEER,
            "Peer to ask",
            UserSelectElement(
                action_id=ids.Action.INPUT,
                placeholder="Leeway picks someone if you leave this empty",
                initial_user=draft.peer,
            ),
            optional=True,
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.Callback.PROPOSE,
        title="Propose a remedy",
        submit="Propose",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({"channel": origin_channel}),
    )


def decline_form(proposal: Proposal, *, channel: str | None) -> View:
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"Decline <@{proposal.proposer}>'s {what(proposal)} for case *{escape(proposal.case_ref)}*? "
                'Only they will hear about it, privately. The request will just read "closed".'
            )
        ),
        _input(
            ids.Block.REASON,
            "A word for the proposer (optional)",
            PlainTextInputElement(
                action_id=ids.Action.INPUT, multiline=True, max_length=1000, placeholder="What would you do instead?"
            ),
            optional=True,
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.Callback.DECLINE,
        title=PlainTextObject(text="Decline"),
        submit="Decline",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({"proposal_id": proposal.id, "channel": channel}),
    )


def propose_result(result: object, policy: Policy) -> Message:
    if isinstance(result, services.Granted):
        return already_proposed(result.proposal, policy)
    if isinstance(result, services.Asked):
        return asked(result.proposal, policy)
    if isinstance(result, services.OutOfPolicy):
        return out_of_policy(result.remedy, result.amount, policy)
    if isinstance(result, services.Refused):
        return Message(text=result.reason)
    raise TypeError(f"not a proposal result: {result!r}")


def withdraw_result(result: object) -> str:
    if isinstance(result, services.Withdrawn):
        return (
            f"Withdrawn: your {what(result.proposal)} for case *{escape(result.proposal.case_ref)}*. "
            "Nothing was granted, and no one will be asked about it."
        )
    if isinstance(result, services.Refused):
        return result.reason
    if isinstance(result, services.AlreadyDecided):
        return already_decided(result.proposal)
    return "That request no longer exists."


def out_of_policy_short(remedy: Remedy, amount: Decimal, policy: Policy) -> str:
    return f"{policy.format_amount(remedy, amount)} is outside policy: {_most(remedy, policy)}."[:150]


# --- review, coaching, usage --------------------------------------------------------------------


def _review_item(proposal: Proposal, decision: Decision) -> list[Block]:
    agreed = "alone" if decision.agreed_by is None else f"with <@{decision.agreed_by}>"
    fair = (
        f" · customer thought fair: {format_amount(proposal.customer_fair, proposal.unit)}"
        if proposal.customer_fair is not None
        else ""
    )
    line = (
        f"<@{proposal.proposer}> · {what(proposal)} · case *{escape(proposal.case_ref)}* · {agreed} · "
        f"decided in {duration(decision.seconds_to_decision)}{fair}\n{quote(proposal.summary)}"
    )
    return [
        section(line),
        ActionsBlock(
            block_id=f"review_{proposal.id}",
            elements=[
                ButtonElement(
                    text="Looks good", action_id=ids.Action.REVIEW_OK, value=str(proposal.id), style="primary"
                ),
                ButtonElement(text="Let's talk", action_id=ids.Action.REVIEW_TALK, value=str(proposal.id)),
            ],
        ),
    ]


def review_blocks(items: Sequence[tuple[Proposal, Decision]], total: int) -> list[Block]:
    if not items:
        return [section("Nothing to review: every decision has been looked at. :sparkles:")]
    blocks: list[Block] = [
        section(
            f"*Decisions to review* ({total}). Only leads see this. Review to learn, "
            "never to blame: these were good-faith decisions, and they stand."
        )
    ]
    for proposal, decision in items:
        blocks.extend(_review_item(proposal, decision))
    if total > len(items):
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {total - len(items)} more.")]))
    return blocks


def review_message(items: Sequence[tuple[Proposal, Decision]], total: int) -> Message:
    return Message(text=f"Decisions to review: {total}", blocks=review_blocks(items, total))


def reviewed(result: object) -> str:
    if isinstance(result, services.Reviewed):
        how = "looks good" if result.outcome == "looks_good" else "you'll talk it through"
        return f"Reviewed: <@{result.proposal.proposer}>'s {what(result.proposal)} ({how})."
    if isinstance(result, services.Refused):
        return result.reason
    if isinstance(result, services.AlreadyDecided):
        return "Someone already reviewed that decision."
    return "That decision no longer exists."


def coaching_form(proposal: Proposal) -> View:
    blocks: list[Block] = [
        section(
            f"A private note to <@{proposal.proposer}> about their {what(proposal)} for case "
            f"*{escape(proposal.case_ref)}*. Only they will see it. It's coaching, not blame: the "
            "decision was theirs to make, and it stands."
        ),
        _input(
            ids.Block.REASON,
            "Your note",
            PlainTextInputElement(
                action_id=ids.Action.INPUT,
                multiline=True,
                max_length=1000,
                placeholder="What went well, and what might you try next time?",
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.Callback.COACHING,
        title="Let's talk",
        submit="Send",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({"proposal_id": proposal.id}),
    )


def coaching_note(proposal: Proposal, decision: Decision | None) -> Message:
    lead = f"<@{decision.reviewed_by}>" if decision and decision.reviewed_by else "Your lead"
    note = quote(decision.coaching_note or "") if decision else ""
    text = (
        f"{lead} looked back at your {what(proposal)} for case *{escape(proposal.case_ref)}* and would like to "
        f"talk it through:\n{note}\nThis is coaching, not blame: you made a good-faith decision, it stands, "
        "and you never pay for it. Only you can see this."
    )
    return Message(text=text, blocks=[section(text)])


def _money(values: dict[str, Decimal]) -> str:
    return " + ".join(format_amount(v, unit) for unit, v in sorted(values.items())) or "nothing"


def usage_summary(report: UsageReport) -> list[str]:
    """The headline, who hasn't used their authority yet, and what asking "what's fair" did."""
    days = max(1, round((report.end - report.start).total_seconds() / 86400))
    lines = [
        f"*Usage over the last {days} days*: {report.decisions} decisions; "
        f"{report.used} of {report.team_size} agents used their authority ({report.share:.0%})."
    ]
    if report.not_yet:
        lines.append(
            "*Not yet using their authority*: "
            + ", ".join(f"<@{u}>" for u in report.not_yet)
            + ". An invitation to coach, not a ranking: ask what would help them decide."
        )
    if report.fair_count:
        other = report.fair_count - report.fair_taken
        lines.append(
            f"*Asking what's fair*: in {report.fair_count} decisions the customer named a figure. "
            f"Taking it would have cost {_money(report.fair_figures)}; agents granted "
            f"{_money(report.granted_where_fair)}. The customer's own figure was granted in "
            f"{report.fair_taken} ({_money(report.fair_taken_value)}), a different amount in {other}."
        )
    return lines


def usage_rows(report: UsageReport) -> list[str]:
    rows = []
    for agent in report.agents:  # in the policy's order: a picture of the team, not a ranking
        median = duration(int(agent.median_seconds)) if agent.median_seconds is not None else "—"
        rows.append(
            f"• <@{agent.user}>: {agent.decisions} decided ({agent.alone} alone, {agent.with_peer} with a "
            f"peer, {agent.with_lead} with a lead) · {agent.agreements_given} agreements given to others · "
            f"{_money(agent.value)} · median time to decision {median}"
        )
    return rows


def usage_lines(report: UsageReport) -> list[str]:
    summary = usage_summary(report)
    return [summary[0], *usage_rows(report), *summary[1:]]


def _chunks(lines: list[str], limit: int = SECTION_LIMIT) -> list[str]:
    """Lines packed into as few sections as Slack's limits allow."""
    chunks: list[str] = []
    for line in lines:
        if chunks and len(chunks[-1]) + 1 + len(line) <= limit:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line[:limit])
    return chunks


def usage_message(report: UsageReport) -> Message:
    lines = usage_lines(report)
    blocks: list[Block] = []
    blocks.extend(section(c) for c in _chunks(lines)[:50])
    return Message(text="\n".join(lines)[:3000], blocks=blocks)


def digest_text(report: UsageReport) -> str:
    return ("Your weekly Leeway digest (only you can see this).\n" + "\n".join(usage_lines(report)))[:3000]


def celebration_text(report: UsageReport) -> str:
    if not report.decisions:
        return (
            ":seedling: A quiet week for Leeway. Remember: you can fix a customer's problem on the spot. "
            "`/remedy limits` shows what you may grant."
        )
    people = report.people_deciding
    return (
        f":tada: This week {people} {'person' if people == 1 else 'people'} made {report.decisions} "
        f"{'decision' if report.decisions == 1 else 'decisions'} for customers on the spot. Thank you, team!"
    )


# --- the agent's home ---------------------------------------------------------------------------


def _proposal_line(proposal: Proposal) -> str:
    state = {
        "pending": f"waiting for <@{proposal.asked}>" if proposal.asked else "waiting",
        "granted": "granted",
        "declined": "not agreed",
        "expired": "expired",
        "withdrawn": "withdrawn",
    }
    return f"{what(proposal)} · case *{escape(proposal.case_ref)}* · {state.get(proposal.status, proposal.status)}"


def home(data: services.Home, policy: Policy) -> View:
    blocks: list[Block] = [HeaderBlock(text="Leeway: fix it on the spot")]
    if not data.is_agent:
        blocks.append(section("You're not listed as an agent in Leeway's policy yet. Ask a lead to add you."))
        return View(type="home", blocks=blocks)
    blocks.append(
        ActionsBlock(
            block_id="home_actions",
            elements=[
                ButtonElement(text="Propose a remedy", action_id=ids.Action.OPEN_FORM, value="new", style="primary")
            ],
        )
    )
    blocks.extend(limits_message(policy).blocks or [])
    blocks.append(section("*Your pending requests*" + ("" if data.pending else "\nNone right now.")))
    for proposal in data.pending:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=_proposal_line(proposal)),
                accessory=ButtonElement(text="Withdraw", action_id=ids.Action.WITHDRAW, value=str(proposal.id)),
            )
        )
    blocks.append(section("*Waiting for you to agree*" + ("" if data.waiting else "\nNothing right now.")))
    for proposal in data.waiting:
        blocks.append(section(f"<@{proposal.proposer}>: {_proposal_line(proposal)}"))
        blocks.append(
            ActionsBlock(
                block_id=f"waiting_{proposal.id}",
                elements=[
                    ButtonElement(
                        text="Approve", action_id=ids.Action.APPROVE, value=str(proposal.id), style="primary"
                    ),
                    ButtonElement(text="Decline", action_id=ids.Action.DECLINE, value=str(proposal.id)),
                ],
            )
        )
    blocks.append(
        section(
            "*Your last decisions*\n"
            + ("\n".join(_proposal_line(p) for p in data.recent) or "None yet: your first one is a `/remedy` away.")
        )
    )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f":tada: Celebrated in kudos {data.kudos} {'time' if data.kudos == 1 else 'times'}."
                )
            ]
        )
    )
    if data.is_lead:
        blocks.extend(review_blocks(data.review, data.review_total))
        if data.week is not None:  # the headline and who to invite first; the rows as room allows
            blocks.extend(section(c) for c in _chunks([*usage_summary(data.week), *usage_rows(data.week)]))
    return View(type="home", blocks=blocks[:100])
