"""Suggestions to raise a limit come from clean evidence only, and never break the funnel."""

from decimal import Decimal

import pytest

from bot.core.limits import LimitRefused, effective, for_person, with_limits
from bot.core.policy import Remedy, Tier, TrustSpec
from bot.core.trust import Evidence, round_up, rounding_step, suggest, suggest_personal
from tests.policies import team_policy

LATE_FEE = Remedy(id="late_fee", label="Waive a late fee", alone_up_to=Decimal(20), peer_up_to=Decimal(100))
SPEC = TrustSpec()


def evidence(
    *,
    tier: Tier = Tier.PEER,
    decisions: int = 48,
    reviewed: int = 47,
    talk: int = 0,
    median: str = "35",
    covering: str = "38",
    remedy_id: str = "late_fee",
) -> Evidence:
    return Evidence(
        remedy_id=remedy_id,
        tier=tier,
        decisions=decisions,
        reviewed=reviewed,
        talk=talk,
        median=Decimal(median),
        covering=Decimal(covering),
    )


def test_clean_peer_decisions_suggest_raising_the_alone_limit_to_a_round_figure() -> None:
    suggestion = suggest(LATE_FEE, evidence(), SPEC)
    assert suggestion is not None
    assert (suggestion.limit, suggestion.current, suggestion.proposed) == (Tier.ALONE, Decimal(20), Decimal(40))


def test_clean_lead_decisions_suggest_raising_the_peer_limit() -> None:
    refund = Remedy(
        id="refund", label="Refund", alone_up_to=Decimal(50), peer_up_to=Decimal(150), lead_up_to=Decimal(500)
    )
    suggestion = suggest(refund, evidence(tier=Tier.LEAD, remedy_id="refund", covering="212"), SPEC)
    assert suggestion is not None
    assert (suggestion.limit, suggestion.current, suggestion.proposed) == (Tier.PEER, Decimal(150), Decimal(220))


@pytest.mark.parametrize(
    ("why", "kwargs"),
    [
        ("too few decisions", {"decisions": 19, "reviewed": 19}),
        ("too few reviewed", {"decisions": 48, "reviewed": 38}),
        ("too many talks", {"decisions": 48, "reviewed": 40, "talk": 3}),
        ("the figure is already allowed", {"covering": "18"}),
        ("alone decisions raise nothing", {"tier": Tier.ALONE}),
        ("another remedy's evidence", {"remedy_id": "refund"}),
    ],
)
def test_no_suggestion_without_clean_evidence(why: str, kwargs: dict[str, object]) -> None:
    assert suggest(LATE_FEE, evidence(**kwargs), SPEC) is None, why  # type: ignore[arg-type]


def test_the_boundaries_of_clean_evidence_count_as_clean() -> None:
    # exactly min_decisions, exactly 80% reviewed, exactly 5% of the reviewed a talk
    assert suggest(LATE_FEE, evidence(decisions=25, reviewed=20, talk=1), SPEC) is not None


def test_a_suggestion_stays_below_the_next_tier_so_limits_still_rise() -> None:
    suggestion = suggest(LATE_FEE, evidence(covering="100"), SPEC)
    assert suggestion is not None
    assert suggestion.proposed == Decimal(95)
    with_limits(LATE_FEE, {Tier.ALONE: suggestion.proposed})  # valid


def test_not_now_waits_until_the_evidence_grows_by_another_min_decisions() -> None:
    assert suggest(LATE_FEE, evidence(decisions=48, reviewed=47), SPEC, dismissed_at=48) is None
    assert suggest(LATE_FEE, evidence(decisions=67, reviewed=66), SPEC, dismissed_at=48) is None
    assert suggest(LATE_FEE, evidence(decisions=68, reviewed=67), SPEC, dismissed_at=48) is not None


@pytest.mark.parametrize(
    ("amount", "in_days", "rounded"),
    [("7.2", False, "8"), ("38", False, "40"), ("40", False, "40"), ("212", False, "220"), ("612", False, "650")],
)
def test_figures_are_rounded_up_to_ones_people_use(amount: str, in_days: bool, rounded: str) -> None:
    step = rounding_step(Decimal(amount), in_days=in_days)
    assert round_up(Decimal(amount), step) == Decimal(rounded)


def test_days_round_to_whole_days() -> None:
    extension = Remedy(id="extension", label="Extend", unit="days", alone_up_to=Decimal(7), peer_up_to=Decimal(30))
    suggestion = suggest(extension, evidence(remedy_id="extension", covering="12.5"), SPEC)
    assert suggestion is not None
    assert suggestion.proposed == Decimal(13)


def test_a_limit_change_that_breaks_the_funnel_is_refused_with_the_reason() -> None:
    with pytest.raises(LimitRefused, match="must rise tier by tier"):
        with_limits(LATE_FEE, {Tier.ALONE: Decimal(100)})
    with pytest.raises(LimitRefused, match="only the"):
        with_limits(LATE_FEE, {Tier.OUT_OF_POLICY: Decimal(1)})


def test_the_effective_policy_applies_the_changes_together() -> None:
    policy = team_policy()
    refund = policy.remedy("refund")
    assert refund is not None
    # raising alone past the file's peer limit is fine when peer rises too
    changed = effective(policy, {("refund", Tier.PEER): Decimal(300), ("refund", Tier.ALONE): Decimal(200)})
    new = changed.remedy("refund")
    assert new is not None
    assert (new.alone_up_to, new.peer_up_to, new.lead_up_to) == (Decimal(200), Decimal(300), refund.lead_up_to)
    assert changed.remedy("extension") == policy.remedy("extension")


def test_changes_the_file_has_since_outgrown_leave_that_remedy_as_the_file_says() -> None:
    policy = team_policy()
    changed = effective(policy, {("refund", Tier.ALONE): Decimal(10_000)})
    assert changed.remedy("refund") == policy.remedy("refund")


def test_a_changed_limit_keeps_the_rest_of_the_remedy() -> None:
    told = Remedy(
        id="refund",
        label="Refund",
        alone_up_to=Decimal(50),
        peer_up_to=Decimal(150),
        tell_customer="Back on the card within 5 business days.",
    )
    changed = with_limits(told, {Tier.ALONE: Decimal(60)})
    assert changed.tell_customer == told.tell_customer
    assert (changed.alone_up_to, changed.peer_up_to) == (Decimal(60), Decimal(150))


def test_a_personal_limit_needs_every_decision_reviewed_well() -> None:
    spotless = evidence(decisions=25, reviewed=25)
    offered = suggest_personal(LATE_FEE, "U0ANA", spotless, SPEC)
    assert offered is not None
    assert (offered.person, offered.limit, offered.current, offered.proposed) == (
        "U0ANA",
        Tier.ALONE,
        Decimal(20),
        Decimal(40),
    )
    assert suggest_personal(LATE_FEE, "U0ANA", evidence(decisions=25, reviewed=24), SPEC) is None
    assert suggest_personal(LATE_FEE, "U0ANA", evidence(decisions=25, reviewed=25, talk=1), SPEC) is None
    assert suggest_personal(LATE_FEE, "U0ANA", evidence(decisions=19, reviewed=19), SPEC) is None
    # Already offered as much: nothing more to offer.
    assert suggest_personal(LATE_FEE, "U0ANA", spotless, SPEC, current=Decimal(40)) is None


def test_a_personal_limit_applies_to_that_agent_alone_and_never_past_the_next_tier() -> None:
    policy = team_policy()
    mine = for_person(policy, "U0ANA", {("U0ANA", "late_fee"): Decimal(40), ("U0BEN", "refund"): Decimal(500)})
    late_fee, refund = mine.remedy("late_fee"), mine.remedy("refund")
    assert late_fee is not None
    assert refund is not None
    assert late_fee.alone_up_to == Decimal(40)
    assert refund == policy.remedy("refund")
    theirs = for_person(policy, "U0BEN", {("U0BEN", "refund"): Decimal(500)})  # past the peer limit: left out
    assert theirs.remedy("refund") == policy.remedy("refund")


def test_a_tier_the_policy_skips_is_never_suggested_into_being() -> None:
    meal = Remedy(id="meal", label="Free meal", alone_up_to=Decimal(25), lead_up_to=Decimal(60))
    assert suggest(meal, evidence(remedy_id="meal", tier=Tier.LEAD, covering="40"), SPEC) is None
