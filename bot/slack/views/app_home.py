"""The agent's App Home: what they may grant, what waits for them, and, for leads, what to review."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import services
from bot.core.lifecycle import Status
from bot.core.policy import Policy
from bot.slack import ids
from bot.slack.views.limits import suggestion_blocks
from bot.slack.views.markup import case, chunks, escape, section, what
from bot.slack.views.replies import limits_message
from bot.slack.views.review import review_blocks, usage_rows, usage_summary
from storage.models import Proposal


def _proposal_line(proposal: Proposal, case_url: str | None) -> str:
    state: dict[str, str] = {
        Status.PENDING: f"waiting for <@{proposal.asked}>" if proposal.asked else "waiting",
        Status.GRANTED: "granted",
        Status.DECLINED: "not agreed",
        Status.EXPIRED: "expired",
        Status.WITHDRAWN: "withdrawn",
    }
    return f"{what(proposal)} · case *{case(proposal, case_url)}* · {state.get(proposal.status, proposal.status)}"


def _customer_line(proposal: Proposal, case_url: str | None) -> str:
    who = escape(proposal.customer_name) if proposal.customer_name else "A customer"
    return f"{who}: {what(proposal)} · case *{case(proposal, case_url)}* · {_in_a_line(proposal.summary)}"


def _in_a_line(words: str, most: int = 120) -> str:
    """The customer's words, cut to a line: the whole story is in the request's post."""
    line = " ".join(words.split())
    return "“" + escape(line if len(line) <= most else line[: most - 1] + "…") + "”"


def home(data: services.Home, policy: Policy) -> View:
    blocks: list[Block] = [HeaderBlock(text="Leeway: fix it on the spot")]
    if not data.is_agent:
        blocks.append(section("You're not listed as an agent in Leeway's policy yet. Ask a lead to add you."))
        return View(type="home", blocks=blocks)
    blocks.append(
        ActionsBlock(
            block_id=ids.Block.HOME_ACTIONS,
            elements=[
                ButtonElement(text="Propose a remedy", action_id=ids.Action.OPEN_FORM, value="new", style="primary")
            ],
        )
    )
    blocks.extend(limits_message(data.limits or policy, data.budgets).blocks or [])
    blocks.append(section("*Your pending requests*" + ("" if data.pending else "\nNone right now.")))
    for proposal in data.pending:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=_proposal_line(proposal, policy.case_url)),
                accessory=ButtonElement(text="Withdraw", action_id=ids.Action.WITHDRAW, value=str(proposal.id)),
            )
        )
    if data.to_take_up:  # shown only while a customer waits: one block each, Take it beside it
        blocks.append(section("*Customers waiting for an agent*\nWhoever takes one up first makes it their own."))
        for proposal in data.to_take_up:
            blocks.append(
                SectionBlock(
                    text=MarkdownTextObject(text=_customer_line(proposal, policy.case_url)),
                    accessory=ButtonElement(
                        text="Take it", action_id=ids.Action.TAKE_IT, value=str(proposal.id), style="primary"
                    ),
                )
            )
    blocks.append(section("*Waiting for you to agree*" + ("" if data.waiting else "\nNothing right now.")))
    for proposal in data.waiting:
        blocks.append(section(f"<@{proposal.proposer}>: {_proposal_line(proposal, policy.case_url)}"))
        blocks.append(
            ActionsBlock(
                block_id=ids.item_block(ids.Block.WAITING_ITEM, proposal.id),
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
            + (
                "\n".join(_proposal_line(p, policy.case_url) for p in data.recent)
                or "None yet: your first one is a `/remedy` away."
            )
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
        if data.suggestions:
            blocks.append(section("*Ready to move down the funnel* (only leads see this)"))
            blocks.extend(suggestion_blocks(data.suggestions, policy))
        blocks.extend(review_blocks(data.review, data.review_total, case_url=policy.case_url))
        if data.week is not None:  # the headline and who to invite first; the rows as room allows
            blocks.extend(section(c) for c in chunks([*usage_summary(data.week), *usage_rows(data.week)]))
    return View(type="home", blocks=blocks[:100])
