"""Use cases. Each owns one transaction, commits the state change together with the messages
it owes (the outbox), and returns what happened, for the edge to put into words.

One module per capability: `access` (who may propose), `proposing`, `deciding` (agree,
decline, withdraw), `routing` (whom to ask, re-route, expire), `availability` (away, back),
`review` (review, the weekly digest), `usage` (usage figures, and the roll-up of closed
days), `home`, `notify` (private lines); `records` builds the rows a change writes."""

from bot.services.access import may_propose
from bot.services.availability import away, back
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
from bot.services.home import Home, home, refresh_home
from bot.services.notify import tell
from bot.services.proposing import draft_again, propose
from bot.services.results import (
    AgreeResult,
    AlreadyDecided,
    AlreadyReviewed,
    Asked,
    AwayResult,
    Declined,
    DeclineResult,
    Granted,
    MarkedAway,
    MarkedBack,
    NoSuchDecision,
    NotFound,
    OutOfPolicy,
    ProposeResult,
    Refused,
    Reviewed,
    ReviewResult,
    Withdrawn,
    WithdrawResult,
)
from bot.services.review import review, review_queue, send_weekly, to_review, weekly_sent
from bot.services.routing import expire_due, reroute_due
from bot.services.usage import roll_up_usage, usage, usage_between

__all__ = [
    "AgreeResult",
    "AlreadyDecided",
    "AlreadyReviewed",
    "Asked",
    "AwayResult",
    "Context",
    "DeclineResult",
    "Declined",
    "Granted",
    "Home",
    "MarkedAway",
    "MarkedBack",
    "NoSuchDecision",
    "NotFound",
    "OutOfPolicy",
    "ProposeResult",
    "Refused",
    "ReviewResult",
    "Reviewed",
    "WithdrawResult",
    "Withdrawn",
    "agree",
    "agree_by_reaction",
    "away",
    "back",
    "decline",
    "draft_again",
    "early_reactions_due",
    "expire_due",
    "home",
    "may_decide",
    "may_propose",
    "propose",
    "reactions_to_request",
    "refresh_home",
    "reroute_due",
    "review",
    "review_queue",
    "roll_up_usage",
    "send_weekly",
    "tell",
    "to_review",
    "usage",
    "usage_between",
    "weekly_sent",
    "withdraw",
]
