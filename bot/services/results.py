"""What a use case tells its caller: the outcome, for the edge to put into words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from bot.core.authority import Roster
from bot.core.budget import BudgetUse
from bot.core.parsing import Draft
from bot.core.policy import CaseSoFar, Remedy
from bot.core.vocabulary import ReviewOutcome
from storage.batch import NewProposal
from storage.models import Proposal


@dataclass(frozen=True)
class Granted:
    proposal: Proposal


@dataclass(frozen=True)
class Asked:
    proposal: Proposal
    # What its case already had of the remedy (within the policy's case_window): part of its tier.
    already: CaseSoFar = field(default_factory=CaseSoFar)
    # Within the agent's own limit but past their alone budget for the remedy: why a peer agrees.
    over_budget: BudgetUse | None = None


@dataclass(frozen=True)
class OutOfPolicy:
    remedy: Remedy
    amount: Decimal
    case_ref: str = ""
    # What the case already has of the remedy: out of policy with it, perhaps not without.
    already: CaseSoFar = field(default_factory=CaseSoFar)


@dataclass(frozen=True)
class Refused:
    reason: str


@dataclass(frozen=True)
class AlreadyDecided:
    proposal: Proposal


@dataclass(frozen=True)
class AlreadyTaken:
    """Another agent took up the customer's request first (`proposal.proposer`)."""

    proposal: Proposal


@dataclass(frozen=True)
class Declined:
    proposal: Proposal


@dataclass(frozen=True)
class NotFound:
    pass


@dataclass(frozen=True)
class Withdrawn:
    proposal: Proposal


@dataclass(frozen=True)
class Reviewed:
    proposal: Proposal
    outcome: ReviewOutcome


@dataclass(frozen=True)
class AlreadyReviewed:
    """Another lead reviewed the decision first."""

    proposal: Proposal


@dataclass(frozen=True)
class NoSuchDecision:
    """The decision to review isn't there (or was never granted)."""


@dataclass(frozen=True)
class MarkedAway:
    """Leeway won't ask or ping them until `until` (None: until they say they're back)."""

    until: datetime | None


@dataclass(frozen=True)
class MarkedBack:
    was_away: bool


@dataclass(frozen=True)
class NudgesStopped:
    """The agent asked for no more nudges; `already`: they had asked before."""

    already: bool = False


ONLY_LEADS_REVIEW = "Only leads can see the review queue. Reviews happen later, privately, and without blame."
ONLY_LEADS_USAGE = "Only leads can see usage."
ONLY_LEADS_EXPORT = "Only leads can export decisions. Your own are on your Home tab."


ProposeResult = Granted | Asked | OutOfPolicy | Refused


@dataclass(frozen=True)
class OnItsCase:
    """An agent's proposal to decide with what its case already has, as the requests that
    arrive together are (see services.proposing)."""

    remedy: Remedy
    new: NewProposal
    draft: Draft
    roster: Roster


@dataclass(frozen=True)
class Counted:
    """What became of one `OnItsCase`. `fresh` is False for a submission recorded before (or
    earlier in its batch): its answer is what that one recorded, and nothing was counted."""

    result: ProposeResult
    fresh: bool = True


AgreeResult = Granted | Refused | AlreadyDecided | NotFound | Asked | OutOfPolicy | AlreadyTaken
# Taking up a customer's request: granted within the agent's own authority, or asked of a peer
# or lead exactly as their own /remedy would be.
TakeResult = Granted | Asked | OutOfPolicy | Refused | AlreadyTaken | AlreadyDecided | NotFound
DeclineResult = Declined | Refused | AlreadyDecided | NotFound

WithdrawResult = Withdrawn | Refused | AlreadyDecided | NotFound
ReviewResult = Reviewed | Refused | AlreadyReviewed | NoSuchDecision
AwayResult = MarkedAway | Refused
