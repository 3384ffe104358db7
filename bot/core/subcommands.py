"""The subcommands beyond proposing: `/remedy limits set|history|reset` and `/remedy trust`, the
words leads use to move limits, and `/remedy outcome`, how an agent tells how the customer took it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.core.policy import FUNNEL, Policy, Tier
from bot.core.vocabulary import CustomerOutcome


@dataclass(frozen=True)
class SetLimit:
    remedy_id: str
    tier: Tier
    amount: Decimal


@dataclass(frozen=True)
class ResetLimits:
    remedy_id: str


@dataclass(frozen=True)
class LimitsHistory:
    pass


@dataclass(frozen=True)
class Trust:
    pass


@dataclass(frozen=True)
class Outcome:
    case_ref: str
    outcome: CustomerOutcome


LimitCommand = SetLimit | ResetLimits | LimitsHistory

OUTCOME_USAGE = "Write `/remedy outcome <case> delighted|ok|unhappy`, like `/remedy outcome #4711 delighted`."

SET_USAGE = (
    "Write `/remedy limits set <remedy> <customer|alone|peer|lead> <amount>`, "
    "like `/remedy limits set refund alone 60`."
)
RESET_USAGE = "Write `/remedy limits reset <remedy>`, like `/remedy limits reset refund`."


def parse_limits(words: list[str], policy: Policy) -> LimitCommand:
    """What follows `/remedy limits`. Raises InputError (from parsing) with how to write it."""
    # Imported here: parsing imports this module for the Command union.
    from bot.core.parsing import InputError, match_remedy, parse_amount  # noqa: PLC0415

    verb = words[0].lower()
    if verb == "history" and len(words) == 1:
        return LimitsHistory()
    if verb == "reset":
        if len(words) != 2:
            raise InputError(RESET_USAGE)
        return ResetLimits(match_remedy(words[1], policy).id)
    if verb == "set":
        if len(words) != 4:
            raise InputError(SET_USAGE)
        remedy = match_remedy(words[1], policy)
        tiers = {t.value: t for t in FUNNEL}
        tier = tiers.get(words[2].lower())
        if tier is None:
            raise InputError(f"`{words[2][:20]}` isn't a tier: use customer, alone, peer or lead. {SET_USAGE}")
        return SetLimit(remedy.id, tier, parse_amount(words[3], remedy, policy, allow_zero=True))
    raise InputError(
        "Write `/remedy limits`, `/remedy limits history`, `/remedy limits set …` or `/remedy limits reset …`."
    )


def parse_outcome(words: list[str]) -> Outcome:
    """What follows `/remedy outcome`."""
    from bot.core.parsing import InputError, check_case_ref  # noqa: PLC0415

    if len(words) != 2:
        raise InputError(OUTCOME_USAGE)
    try:
        outcome = CustomerOutcome(words[1].lower())
    except ValueError:
        raise InputError(f"`{words[1][:20]}` isn't one of delighted, ok or unhappy. {OUTCOME_USAGE}") from None
    return Outcome(check_case_ref(words[0]), outcome)
