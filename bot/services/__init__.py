"""Use cases. Each owns one transaction, commits the state change together with the messages
it owes (the outbox), and returns what happened, for the edge to put into words.

One module per capability: `access` (who may propose), `proposing`, `deciding` (agree,
decline, withdraw), `routing` (whom to ask, re-route, expire), `availability` (away, back),
`review` (review, usage, the weekly digest), `home`, `notify` (private lines), `retention`
(forgetting messages delivered long ago); `records` builds the rows a change writes."""

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
from bot.services.retention import forget_delivered
from bot.services.review import (
    REVIEW_COUNTED_UP_TO,
    review,
    review_queue,
    send_weekly,
    to_review,
    usage,
    usage_between,
    weekly_sent,
)
from bot.services.routing import expire_due, reroute_due

__all__ = [
    "REVIEW_COUNTED_UP_TO",
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
    "forget_delivered",
    "home",
    "may_decide",
    "may_propose",
    "propose",
    "reactions_to_request",
    "refresh_home",
    "reroute_due",
    "review",
    "review_queue",
    "send_weekly",
    "tell",
    "to_review",
    "usage",
    "usage_between",
    "weekly_sent",
    "withdraw",
]
