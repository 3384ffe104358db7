"""The tiers of the authority funnel, and how amounts read in messages."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum


class Tier(StrEnum):
    CUSTOMER = "customer"  # the customer asked the product themselves, within `customer_up_to`
    ALONE = "alone"
    PEER = "peer"
    LEAD = "lead"
    OUT_OF_POLICY = "out_of_policy"


# Display order of the tiers an agent's proposal can take.
GRANTING_TIERS: tuple[Tier, ...] = (Tier.ALONE, Tier.PEER, Tier.LEAD)
# The whole funnel, lowest first: a customer serving themselves, then the agents' tiers.
FUNNEL: tuple[Tier, ...] = (Tier.CUSTOMER, *GRANTING_TIERS)

TIER_WORDS: dict[Tier, str] = {
    Tier.CUSTOMER: "self-served by the customer",
    Tier.ALONE: "on your own",
    Tier.PEER: "with a peer",
    Tier.LEAD: "with a lead",
    Tier.OUT_OF_POLICY: "out of policy",
}

CURRENCY_SYMBOLS: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def format_amount(amount: Decimal, unit: str) -> str:
    """`$40`, `$25.50`, `12 EUR`, `7 days`: how amounts read in messages."""
    if unit == "days":
        days = int(amount)
        return f"{days} day" if days == 1 else f"{days} days"
    whole = amount == amount.to_integral_value()
    number = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(unit)
    return f"{symbol}{number}" if symbol else f"{number} {unit}"
