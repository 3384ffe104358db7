"""`/remedy limits set|history|reset` and `/remedy trust`: the words leads use to move limits."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.core.policy import GRANTING_TIERS, Policy, Tier


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


LimitCommand = SetLimit | ResetLimits | LimitsHistory

SET_USAGE = "Write `/remedy limits set <remedy> <alone|peer|lead> <amount>`, like `/remedy limits set refund alone 60`."
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
        tiers = {t.value: t for t in GRANTING_TIERS}
        tier = tiers.get(words[2].lower())
        if tier is None:
            raise InputError(f"`{words[2][:20]}` isn't a tier: use alone, peer or lead. {SET_USAGE}")
        return SetLimit(remedy.id, tier, parse_amount(words[3], remedy, policy, allow_zero=True))
    raise InputError(
        "Write `/remedy limits`, `/remedy limits history`, `/remedy limits set …` or `/remedy limits reset …`."
    )
