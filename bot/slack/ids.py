"""Every action_id, callback_id and block_id Leeway puts in Slack, in one place."""

from enum import StrEnum


class Action(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    PROPOSE_AGAIN = "propose_again"
    REVIEW_OK = "review_looks_good"
    REVIEW_TALK = "review_talk"
    OPEN_FORM = "open_proposal_form"
    INPUT = "input"  # the one input element inside each form block


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
