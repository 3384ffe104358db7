"""Tables. Statuses, tiers and kinds are enums, stored as their string values; times are UTC-aware.

One module per part of the product: `proposals`, `people`, `delivery`, `limits`, `usage`,
`integrations`, all made of what `base` holds. Importing this package registers every table with `Base.metadata`."""

from storage.models.base import (
    AGREED,
    ASKED,
    NAMING_CONVENTION,
    PENDING,
    UNREVIEWED,
    UNSCHEDULED,
    Base,
    Hundredths,
    UTCDateTime,
    stored,
)
from storage.models.delivery import ChannelPace, EarlyReaction, OutboxMessage
from storage.models.integrations import IdempotentAnswer, Integration
from storage.models.limits import AloneBudgetUse, LimitChange, TrustDismissal
from storage.models.people import Availability, Nudge, Person
from storage.models.proposals import Approval, AskLoad, Decision, Proposal, ProposalEvent
from storage.models.usage import UsageRollup, UsageTotal, UsageTotalTime

__all__ = [
    "AGREED",
    "ASKED",
    "NAMING_CONVENTION",
    "PENDING",
    "UNREVIEWED",
    "UNSCHEDULED",
    "AloneBudgetUse",
    "Approval",
    "AskLoad",
    "Availability",
    "Base",
    "ChannelPace",
    "Decision",
    "EarlyReaction",
    "Hundredths",
    "IdempotentAnswer",
    "Integration",
    "LimitChange",
    "Nudge",
    "OutboxMessage",
    "Person",
    "Proposal",
    "ProposalEvent",
    "TrustDismissal",
    "UTCDateTime",
    "UsageRollup",
    "UsageTotal",
    "UsageTotalTime",
    "stored",
]
