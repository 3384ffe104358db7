"""The forms: a proposal, a decline, a lead's coaching note; and what a form shows under a field
when its submission can't go through."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import (
    Block,
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
from bot.core.parsing import Draft
from bot.core.policy import Policy
from bot.slack import ids
from bot.slack.views.markup import case, section, unlinked, what
from bot.slack.views.replies import out_of_policy_short, outcome_words
from storage.models import Proposal

# Slack shows at most this much of an error under a form field.
FORM_ERROR_LIMIT = 150


def form_errors(errors: Mapping[str, str]) -> dict[str, str]:
    """What to show under each field named, each cut to what Slack shows there."""
    return {field: text[:FORM_ERROR_LIMIT] for field, text in errors.items()}


def proposal_form_errors(result: services.OutOfPolicy | services.Refused, policy: Policy) -> dict[str, str]:
    """Why a proposal went no further, under the field to fix: its form stays open."""
    if isinstance(result, services.OutOfPolicy):
        return {
            ids.Block.AMOUNT: out_of_policy_short(
                result.remedy, result.amount, policy, already=result.already, case_ref=result.case_ref
            )
        }
    return {ids.Block.PEER: unlinked(outcome_words(result, policy).text)}  # plain text: no links


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


def decline_form(proposal: Proposal, *, channel: str | None, case_url: str | None = None) -> View:
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"Decline <@{proposal.proposer}>'s {what(proposal)} for case *{case(proposal, case_url)}*? "
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


def coaching_form(proposal: Proposal, *, case_url: str | None = None) -> View:
    blocks: list[Block] = [
        section(
            f"A private note to <@{proposal.proposer}> about their {what(proposal)} for case "
            f"*{case(proposal, case_url)}*. Only they will see it. It's coaching, not blame: the "
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
