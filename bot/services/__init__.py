"""Use cases. Each owns one transaction, commits the state change together with the messages
it owes (the outbox), and returns what happened, for the edge to put into words.

One module per capability: `access` (who may propose), `proposing`, `deciding` (agree,
decline, withdraw), `routing` (whom to ask, re-route, expire), `availability` (away, back),
`review` (review, the weekly digest), `usage` (usage figures, and the roll-up of closed
days), `encouragement` (precedent, welcome, nudges), `limits` (limits that grow with trust),
`outcomes` (how the customer took it), `decisions` (a period's decisions, and a lead's export of
them), `home`, `notify` (private lines), `retention`
(forgetting messages delivered long ago); `records` builds the rows a change writes."""

from bot.services.access import may_propose
from bot.services.availability import away, back
from bot.services.budget import budgets_of
from bot.services.context import Context
from bot.services.deciding import (
    agree,
    agree_by_reaction,
    decline,
    early_reactions_due,
    may_decide,
    reactions_to_request,
    withdraw,
)
from bot.services.decisions import ExportOnItsWay, decisions_between, request_export
from bot.services.encouragement import (
    keep_precedent_counts,
    nudged_between,
    nudges_due,
    precedent,
    stop_nudges,
    welcome_due,
)
from bot.services.home import Home, home, refresh_home
from bot.services.limits import (
    LimitChanged,
    LimitResult,
    NoLongerSuggested,
    SetAside,
    not_now,
    offer_personal,
    raise_limit,
    refresh_ready_to_move,
    reset_limits,
    set_limit,
    suggestions,
    trust_for,
)
from bot.services.limits import history as limits_history
from bot.services.notify import tell
from bot.services.outcomes import OutcomeResult, OutcomeTold, tell_outcome
from bot.services.proposing import draft_again, propose
from bot.services.results import (
    AgreeResult,
    AlreadyDecided,
    AlreadyReviewed,
    AlreadyTaken,
    Asked,
    AwayResult,
    Declined,
    DeclineResult,
    Granted,
    MarkedAway,
    MarkedBack,
    NoSuchDecision,
    NotFound,
    NudgesStopped,
    OutOfPolicy,
    ProposeResult,
    Refused,
    Reviewed,
    ReviewResult,
    TakeResult,
    Withdrawn,
    WithdrawResult,
)
from bot.services.retention import forget_delivered
from bot.services.review import (
    REVIEW_COUNTED_UP_TO,
    review,
    review_queue,
    running_before,
    send_weekly,
    to_review,
    weekly_sent,
)
from bot.services.routing import expire_due, reroute_due
from bot.services.taking import take_up
from bot.services.usage import roll_up_usage, usage_between, usage_window

__all__ = [
    "REVIEW_COUNTED_UP_TO",
    "AgreeResult",
    "AlreadyDecided",
    "AlreadyReviewed",
    "AlreadyTaken",
    "Asked",
    "AwayResult",
    "Context",
    "DeclineResult",
    "Declined",
    "ExportOnItsWay",
    "Granted",
    "Home",
    "LimitChanged",
    "LimitResult",
    "MarkedAway",
    "MarkedBack",
    "NoLongerSuggested",
    "NoSuchDecision",
    "NotFound",
    "NudgesStopped",
    "OutOfPolicy",
    "OutcomeResult",
    "OutcomeTold",
    "ProposeResult",
    "Refused",
    "ReviewResult",
    "Reviewed",
    "SetAside",
    "TakeResult",
    "WithdrawResult",
    "Withdrawn",
    "agree",
    "agree_by_reaction",
    "away",
    "back",
    "budgets_of",
    "decisions_between",
    "decline",
    "draft_again",
    "early_reactions_due",
    "expire_due",
    "forget_delivered",
    "home",
    "keep_precedent_counts",
    "limits_history",
    "may_decide",
    "may_propose",
    "not_now",
    "nudged_between",
    "nudges_due",
    "offer_personal",
    "precedent",
    "propose",
    "raise_limit",
    "reactions_to_request",
    "refresh_home",
    "refresh_ready_to_move",
    "request_export",
    "reroute_due",
    "reset_limits",
    "review",
    "review_queue",
    "roll_up_usage",
    "running_before",
    "send_weekly",
    "set_limit",
    "stop_nudges",
    "suggestions",
    "take_up",
    "tell",
    "tell_outcome",
    "to_review",
    "trust_for",
    "usage_between",
    "usage_window",
    "weekly_sent",
    "welcome_due",
    "withdraw",
]
