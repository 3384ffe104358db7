"""Who may agree to a proposal, and whom Leeway asks.

Two associates agreeing is all the authority a peer-tier remedy needs; the
lead tier needs a lead. The proposer never agrees to their own proposal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.policy import Tier


@dataclass(frozen=True)
class Roster:
    """The people in the policy, with user groups already resolved to users."""

    agents: tuple[str, ...]
    leads: tuple[str, ...]
    bot_user: str | None = None
    # Worked out once: every request asks these of a roster of hundreds, some under the routing lock.
    _everyone: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _agents: frozenset[str] = field(init=False, repr=False, compare=False)
    _leads: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Someone listed twice (in two user groups, say) is one person in the rotation order.
        object.__setattr__(self, "agents", tuple(dict.fromkeys(self.agents)))
        object.__setattr__(self, "leads", tuple(dict.fromkeys(self.leads)))
        agents = frozenset(self.agents)
        object.__setattr__(self, "_agents", agents | frozenset(self.leads))
        object.__setattr__(self, "_leads", frozenset(self.leads))
        object.__setattr__(self, "_everyone", self.agents + tuple(u for u in self.leads if u not in agents))

    def is_agent(self, user: str) -> bool:
        return user in self._agents

    def is_lead(self, user: str) -> bool:
        return user in self._leads

    def everyone(self) -> tuple[str, ...]:
        """Agents first, then leads not already listed: the rotation order."""
        return self._everyone


def may_propose(roster: Roster, user: str) -> str | None:
    """None when `user` may propose, else why not (shown to them)."""
    if roster.is_agent(user):
        return None
    return (
        "You're not listed as an agent in Leeway's policy yet, so you can't propose remedies. "
        "Ask a lead to add you under `people.agents`."
    )


def may_take_up(roster: Roster, user: str) -> str | None:
    """None when `user` may take up a customer's request (and so become its proposer), else why
    not: anyone who may propose."""
    if roster.bot_user is not None and user == roster.bot_user:
        return "Leeway itself never takes up a request."
    if roster.is_agent(user):
        return None
    return (
        "You're not listed as an agent in Leeway's policy yet, so you can't take up a customer's request. "
        "Ask a lead to add you under `people.agents`."
    )


def eligible(tier: Tier, roster: Roster, proposer: str | None) -> tuple[str, ...]:
    """Everyone who may agree to a proposal of this tier, in rotation order. A customer's request
    no agent has taken up yet (no proposer) waits for anyone who may take it up."""
    if proposer is None:
        return tuple(u for u in roster.everyone() if u != roster.bot_user)
    if tier is Tier.PEER:
        pool = roster.everyone()
    elif tier is Tier.LEAD:
        pool = roster.leads
    else:
        return ()
    return tuple(u for u in pool if u != proposer and u != roster.bot_user)


def refusal(tier: Tier, roster: Roster, proposer: str | None, user: str) -> str | None:
    """None when `user` may agree to (or decline) the proposal, else why not."""
    if roster.bot_user is not None and user == roster.bot_user:
        return "Leeway itself never agrees to a proposal."
    if proposer is None:
        return "This is a customer's request waiting for an agent: take it up first, with *Take it*."
    if user == proposer:
        return "This one is yours, so someone else needs to agree. That's the point of a second pair of eyes."
    if tier is Tier.LEAD and not roster.is_lead(user):
        return "This one is in the lead tier, so only a lead can agree or decline."
    if tier not in (Tier.PEER, Tier.LEAD):
        return "This proposal doesn't need anyone's agreement."
    if not roster.is_agent(user):
        return "Only agents and leads listed in Leeway's policy can agree or decline."
    return None


def pick_peer(
    candidates: Sequence[str], open_asks: Mapping[str, int], last_asked: Mapping[str, datetime]
) -> str | None:
    """Fairly choose whom to ask: fewest open asks; among those, whoever was asked
    longest ago (never asked first); ties keep the roster's order, which makes
    it a rotation."""
    if not candidates:
        return None
    order = {user: i for i, user in enumerate(candidates)}

    def key(user: str) -> tuple[int, int, float, int]:
        asked = last_asked.get(user)
        return (open_asks.get(user, 0), 0 if asked is None else 1, asked.timestamp() if asked else 0.0, order[user])

    return min(candidates, key=key)


# ✅ is the documented way to agree; ✔️ and 👍 are what people reach for anyway.
AGREEING_REACTIONS = frozenset({"white_check_mark", "heavy_check_mark", "+1", "thumbsup"})


def is_agreement_reaction(name: str) -> bool:
    base = name.split("::", 1)[0]  # "+1::skin-tone-3" is still a +1
    return base in AGREEING_REACTIONS
