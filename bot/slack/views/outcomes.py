"""How the customer took it, in words: the question after a grant, the agent's answer, and a
delighted customer's word in the celebration's thread. Nothing negative is ever posted."""

from __future__ import annotations

import functools
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ContextBlock, MarkdownTextObject

from bot.core.vocabulary import CustomerOutcome
from bot.services.outcomes import OutcomeResult, OutcomeTold
from bot.services.results import NotFound, Refused
from bot.slack import ids
from bot.slack.views.markup import Message, section, what
from storage.models import Proposal

OUTCOME_ASKED = "How did the customer take it?"
OUTCOME_BUTTONS: dict[CustomerOutcome, tuple[ids.Action, str]] = {
    CustomerOutcome.DELIGHTED: (ids.Action.OUTCOME_DELIGHTED, "Delighted"),
    CustomerOutcome.OK: (ids.Action.OUTCOME_OK, "OK"),
    CustomerOutcome.UNHAPPY: (ids.Action.OUTCOME_UNHAPPY, "Still unhappy"),
}


def outcome_blocks(proposal_id: int) -> tuple[dict[str, Any], ...]:
    """Asked under every granted reply: the answer closes the loop with the customer. Rendered
    once with the models (a reply within the agent's own authority is the busiest path there
    is), then copied with this proposal's id."""
    asked, buttons = _outcome_template()
    return asked, {
        **buttons,
        "block_id": ids.item_block(ids.Block.OUTCOME, proposal_id),
        "elements": [{**element, "value": str(proposal_id)} for element in buttons["elements"]],
    }


@functools.cache
def _outcome_template() -> tuple[dict[str, Any], dict[str, Any]]:
    asked = ContextBlock(elements=[MarkdownTextObject(text=f"*{OUTCOME_ASKED}* Tell me once you know.")])
    return asked.to_dict(), outcome_question(0).to_dict()


def outcome_question(proposal_id: int) -> ActionsBlock:
    """The buttons: each names the proposal only."""
    return ActionsBlock(
        block_id=ids.item_block(ids.Block.OUTCOME, proposal_id),
        elements=[
            ButtonElement(text=label, action_id=action, value=str(proposal_id))
            for action, label in OUTCOME_BUTTONS.values()
        ],
    )


def kudos_reply(proposal: Proposal) -> Message:
    text = f":yellow_heart: The customer was delighted with {what(proposal)}."
    return Message(text=text, blocks=[section(text)])


def outcome_words(result: OutcomeResult) -> Message:
    if isinstance(result, Refused):
        return Message(text=result.reason)
    if isinstance(result, NotFound):
        return Message(
            text="There's no granted decision of yours on that case to tell about. "
            "`/remedy outcome <case> delighted|ok|unhappy` names the case as you proposed it."
        )
    return Message(text=_told(result))


def _told(result: OutcomeTold) -> str:
    if result.outcome is CustomerOutcome.DELIGHTED:
        return f"Wonderful! Noted for {what(result.proposal)}, and added to its celebration in kudos."
    if result.outcome is CustomerOutcome.OK:
        return f"Noted for {what(result.proposal)}. Thank you for closing the loop."
    return (
        f"Thank you for saying so. It's noted for {what(result.proposal)}, for leads to learn from, never to "
        "blame: you made a good-faith call. If there's more you can do for the customer, `/remedy` is right here."
    )
