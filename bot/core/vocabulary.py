"""The words Leeway stores, each an enum used from column to view. (A proposal's `Status` and
its history's `Event` live in `lifecycle`, its `Tier` in `policy`, beside their rules.)"""

from __future__ import annotations

from enum import StrEnum


class OutboxKind(StrEnum):
    """What an outbox message is; the sender renders it from the proposal's state."""

    REQUEST = "request"  # the ask, in the requests channel
    REQUEST_UPDATE = "request_update"  # the ask, brought up to date
    DECISION = "decision"  # the audit record, in the decisions channel
    KUDOS = "kudos"  # the celebration, in the kudos channel
    PROPOSER_NOTE = "proposer_note"  # private word to the proposer about the outcome
    REROUTE_PING = "reroute_ping"  # a mention of the next person, in the request's thread
    EPHEMERAL = "ephemeral"  # a private line to one person in a channel
    NOTICE = "notice"  # a direct message with given text
    RESPONSE = "response"  # a private reply through an interaction's response_url
    COACHING = "coaching"  # a lead's private coaching note to the agent
    HOME = "home"  # the person's App Home, rendered fresh
    LIMIT_CHANGE = "limit_change"  # a limit a lead changed: recorded, and celebrated when it rises
    KUDOS_REPLY = "kudos_reply"  # a word in the thread of a decision's celebration (a delighted customer)
    WELCOME = "welcome"  # one private welcome to someone new to the roster
    NUDGE = "nudge"  # a private reminder to an agent who hasn't used their authority lately
    EXPORT = "export"  # a lead's CSV of a period's decisions, uploaded to their DM when it is sent
    WEBHOOK = "webhook"  # an event for a company system's endpoint (not Slack: see outbox.webhooks)


class WebhookEvent(StrEnum):
    """What a company system's endpoint can subscribe to (the policy's `webhooks[].events`)."""

    GRANTED = "granted"  # a remedy was granted, in any tier: carry it out
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    LIMIT_CHANGED = "limit_changed"  # a lead changed a limit (set, raised, reset)
    OUTCOME = "outcome"  # the agent told how the customer took a granted remedy


class OutboxStatus(StrEnum):
    PENDING = "pending"  # owed, due at its next attempt
    SENDING = "sending"  # claimed by a sender, until its lease ends
    SENT = "sent"
    FAILED = "failed"  # a person has to fix something; the log and the proposer say what


class Via(StrEnum):
    """How the agreement that granted a proposal came."""

    ALONE = "alone"  # within the agent's own authority
    CUSTOMER = "customer"  # the customer served themselves in the product, within `customer_up_to`
    BUTTON = "button"
    REACTION = "reaction"


class RequestedBy(StrEnum):
    """Who asked, for a proposal that came from one of the company's own systems (None: made in
    Slack)."""

    CUSTOMER = "customer"  # the customer asked the product themselves
    AGENT = "agent"  # a company system (a helpdesk sidebar) proposing for an agent


class ReviewOutcome(StrEnum):
    LOOKS_GOOD = "looks_good"
    TALK = "talk"  # with a private coaching note to the agent


class LimitChangeKind(StrEnum):
    """How a lead changed a limit on top of the policy file."""

    RAISED = "raised"  # from a suggestion the evidence made
    SET = "set"  # by hand, with /remedy limits set
    RESET = "reset"  # back to the policy file, for every limit of a remedy


class CustomerOutcome(StrEnum):
    """How the customer took a granted remedy, as the agent who granted it tells it. Something
    to learn from, never to blame: an unhappy outcome is shown to leads only, never per agent
    in a channel."""

    DELIGHTED = "delighted"
    OK = "ok"
    UNHAPPY = "unhappy"


class Welcome(StrEnum):
    """Whether someone Leeway has seen on the roster is owed their one welcome."""

    OWED = "owed"  # new to the roster: welcomed at the next moment inside working hours
    SENT = "sent"
    NOT_OWED = "not_owed"  # known before welcomes existed, or seen while `welcome: off`


class Scope(StrEnum):
    """What an integration's token may do with the API."""

    PROPOSE = "propose"  # record proposals, and read back its own
    READ = "read"  # read any proposal, and the decisions
