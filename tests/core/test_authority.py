from datetime import UTC, datetime, timedelta

import pytest

from bot.core.authority import Roster, eligible, is_agreement_reaction, may_propose, pick_peer, refusal
from bot.core.policy import Tier

ROSTER = Roster(agents=("U0ANA", "U0BEN", "U0CHO"), leads=("U0LEE",), bot_user="U0LEEWAY")


@pytest.mark.parametrize(
    ("tier", "user", "allowed"),
    [
        (Tier.PEER, "U0BEN", True),
        (Tier.PEER, "U0LEE", True),  # leads count as peers
        (Tier.PEER, "U0ANA", False),  # the proposer
        (Tier.PEER, "U0STRANGER", False),
        (Tier.PEER, "U0LEEWAY", False),  # the bot itself
        (Tier.LEAD, "U0LEE", True),
        (Tier.LEAD, "U0BEN", False),  # an agent is not enough
        (Tier.ALONE, "U0BEN", False),  # nothing to agree to
    ],
)
def test_who_may_agree(tier: Tier, user: str, allowed: bool) -> None:
    assert (refusal(tier, ROSTER, "U0ANA", user) is None) is allowed


def test_a_lead_proposing_in_the_lead_tier_needs_another_lead() -> None:
    assert refusal(Tier.LEAD, ROSTER, "U0LEE", "U0LEE") is not None
    assert eligible(Tier.LEAD, ROSTER, "U0LEE") == ()


def test_eligible_excludes_proposer_and_keeps_rotation_order() -> None:
    assert eligible(Tier.PEER, ROSTER, "U0BEN") == ("U0ANA", "U0CHO", "U0LEE")
    assert eligible(Tier.LEAD, ROSTER, "U0BEN") == ("U0LEE",)


def test_only_listed_people_may_propose() -> None:
    assert may_propose(ROSTER, "U0ANA") is None
    assert may_propose(ROSTER, "U0LEE") is None
    assert "not listed as an agent" in (may_propose(ROSTER, "U0STRANGER") or "")


def test_pick_peer_prefers_fewest_open_asks() -> None:
    assert pick_peer(["U0BEN", "U0CHO"], {"U0BEN": 2, "U0CHO": 1}, {}) == "U0CHO"


def test_pick_peer_rotates_among_equals() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    candidates = ["U0BEN", "U0CHO", "U0DAN"]
    assert pick_peer(candidates, {}, {}) == "U0BEN"
    assert pick_peer(candidates, {}, {"U0BEN": now}) == "U0CHO"
    assert pick_peer(candidates, {}, {"U0BEN": now, "U0CHO": now + timedelta(seconds=1)}) == "U0DAN"
    asked_all = {"U0BEN": now + timedelta(seconds=2), "U0CHO": now, "U0DAN": now + timedelta(seconds=1)}
    assert pick_peer(candidates, {}, asked_all) == "U0CHO"


def test_pick_peer_with_no_one_left() -> None:
    assert pick_peer([], {}, {}) is None


@pytest.mark.parametrize(
    ("name", "agrees"),
    [
        ("white_check_mark", True),
        ("heavy_check_mark", True),
        ("+1", True),
        ("+1::skin-tone-4", True),
        ("thumbsup", True),
        ("x", False),
        ("eyes", False),
        ("", False),
    ],
)
def test_agreeing_reactions(name: str, agrees: bool) -> None:
    assert is_agreement_reaction(name) is agrees


def test_someone_listed_twice_is_one_person_in_the_rotation() -> None:
    # In two user groups, say: asked once in a round, and counted once among leads.
    roster = Roster(agents=("U0ANA", "U0BEN", "U0ANA"), leads=("U0LEE", "U0LEE"))
    assert roster.everyone() == ("U0ANA", "U0BEN", "U0LEE")
    assert roster.agents == ("U0ANA", "U0BEN")
    assert eligible(Tier.LEAD, roster, "U0ANA") == ("U0LEE",)
    assert eligible(Tier.PEER, roster, "U0BEN") == ("U0ANA", "U0LEE")
