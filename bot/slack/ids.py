"""Every action_id, callback_id and block_id Leeway puts in Slack, in one place."""

from enum import StrEnum


class Action(StrEnum):
    APPROVE = "approve"
    TAKE_IT = "take_it"  # an agent takes up a customer's request
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    PROPOSE_AGAIN = "propose_again"
    REVIEW_OK = "review_looks_good"
    REVIEW_TALK = "review_talk"
    OPEN_FORM = "open_proposal_form"
    NO_MORE_NUDGES = "no_more_nudges"
    INPUT = "input"  # the one input element inside each form block
    TRUST_RAISE = "trust_raise"
    TRUST_NOT_NOW = "trust_not_now"
    TRUST_OFFER = "trust_offer"
    OUTCOME_DELIGHTED = "outcome_delighted"
    OUTCOME_OK = "outcome_ok"
    OUTCOME_UNHAPPY = "outcome_unhappy"


class Callback(StrEnum):
    PROPOSE = "propose_form"
    DECLINE = "decline_form"
    COACHING = "coaching_form"


class Block(StrEnum):
    # Form blocks are named like the draft's fields, so an input error lands on its field.
    REMEDY = "remedy_id"
    AMOUNT = "amount"
    CASE = "case_ref"
    SUMMARY = "summary"
    FAIR = "fair"
    PEER = "peer"
    REASON = "reason"
    REQUEST_ACTIONS = "request_actions"
    HOME_ACTIONS = "home_actions"
    NUDGE_ACTIONS = "nudge_actions"
    # One of these per proposal in a list (block ids must be unique in a view): see `item_block`.
    REVIEW_ITEM = "review"
    WAITING_ITEM = "waiting"
    OUTCOME = "outcome"


def item_block(block: Block, proposal_id: int) -> str:
    """The block id of one proposal's item in a list: `review_42`."""
    return f"{block}_{proposal_id}"
