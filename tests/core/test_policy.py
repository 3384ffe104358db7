from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.core.policy import CaseSoFar, Remedy, Tier, format_amount
from bot.policy_file import PolicyError, load_policy, parse_policy
from tests.policies import TEAM_POLICY, team_policy

POLICY = team_policy()


@pytest.mark.parametrize(
    ("remedy", "amount", "tier"),
    [
        ("refund", "0.01", Tier.ALONE),
        ("refund", "50", Tier.ALONE),
        ("refund", "50.01", Tier.PEER),
        ("refund", "150", Tier.PEER),
        ("refund", "150.01", Tier.LEAD),
        ("refund", "500", Tier.LEAD),
        ("refund", "500.01", Tier.OUT_OF_POLICY),
        ("extension", "7", Tier.ALONE),
        ("extension", "8", Tier.PEER),
        ("extension", "90", Tier.LEAD),
        ("extension", "91", Tier.OUT_OF_POLICY),
        # meal skips the peer tier: above the alone limit a lead decides
        ("meal", "25", Tier.ALONE),
        ("meal", "25.01", Tier.LEAD),
        ("meal", "60.01", Tier.OUT_OF_POLICY),
    ],
)
def test_tier_at_the_boundaries(remedy: str, amount: str, tier: Tier) -> None:
    found = POLICY.remedy(remedy)
    assert found is not None
    assert found.tier_for(Decimal(amount)) is tier


@pytest.mark.parametrize(
    ("remedy", "already", "amount", "tier"),
    [
        # The late fee: alone up to $20, with a peer up to $100, with a lead up to $300.
        ("late_fee", "0", "20", Tier.ALONE),
        ("late_fee", "15", "5", Tier.ALONE),
        ("late_fee", "15", "5.01", Tier.PEER),
        ("late_fee", "19.99", "0.01", Tier.ALONE),
        ("late_fee", "20", "0.01", Tier.PEER),
        ("late_fee", "20", "20", Tier.PEER),
        ("late_fee", "80", "20", Tier.PEER),
        ("late_fee", "80", "20.01", Tier.LEAD),
        ("late_fee", "100", "200", Tier.LEAD),
        ("late_fee", "280", "20", Tier.LEAD),
        ("late_fee", "280", "20.01", Tier.OUT_OF_POLICY),
        ("late_fee", "300", "0.01", Tier.OUT_OF_POLICY),
        ("late_fee", "250", "60", Tier.OUT_OF_POLICY),  # $60 alone would need only a peer
        # Days add up like money.
        ("extension", "6", "1", Tier.ALONE),
        ("extension", "7", "1", Tier.PEER),
        ("extension", "89", "2", Tier.OUT_OF_POLICY),
        # Meal skips the peer tier: what a case has can carry it straight to a lead.
        ("meal", "20", "5", Tier.ALONE),
        ("meal", "20", "6", Tier.LEAD),
        ("meal", "59", "2", Tier.OUT_OF_POLICY),
    ],
)
def test_what_a_case_already_has_counts_toward_the_tier(remedy: str, already: str, amount: str, tier: Tier) -> None:
    found = POLICY.remedy(remedy)
    assert found is not None
    assert found.tier_for(Decimal(amount), already=Decimal(already)) is tier


@pytest.mark.parametrize(
    ("granted", "waiting", "total"),
    [("0", "0", "0"), ("20", "0", "20"), ("0", "40", "40"), ("20", "60.50", "80.50")],
)
def test_what_a_case_has_is_its_grants_and_what_waits(granted: str, waiting: str, total: str) -> None:
    assert CaseSoFar(granted=Decimal(granted), waiting=Decimal(waiting)).total == Decimal(total)


@pytest.mark.parametrize(
    ("extra", "window"),
    [("", timedelta(days=30)), ("case_window: 7d\n", timedelta(days=7)), ("case_window: 36h\n", timedelta(hours=36))],
)
def test_the_case_window_is_a_duration_like_the_others(extra: str, window: timedelta) -> None:
    assert parse_policy(TEAM_POLICY + extra).case_window == window


def test_a_case_window_that_is_not_a_duration_names_the_line() -> None:
    with pytest.raises(PolicyError, match=r"policy.yml line 28: case_window: 'a month' is not a duration"):
        parse_policy(TEAM_POLICY + "case_window: a month\n", source="policy.yml")


def test_skipped_alone_tier_means_everything_needs_someone() -> None:
    remedy = Remedy(
        id="goodwill", label="Goodwill credit", alone_up_to=Decimal(0), peer_up_to=Decimal(10), lead_up_to=Decimal(0)
    )
    assert remedy.tier_for(Decimal("0.5")) is Tier.PEER
    assert remedy.tier_for(Decimal("10.01")) is Tier.OUT_OF_POLICY


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (("peer_up_to: 100", "peer_up_to: 10"), 15, "remedies[1].peer_up_to: limits must rise tier by tier"),
        (("kudos: C0KUD", "kudoz: C0KUD"), 2, "unknown key 'kudoz'"),
        (("currency: USD", "currency: dollars"), 1, "currency: must be a three-letter currency code"),
        (("leads: [U0LEE, U0LIZ]", "leads: [ben]"), 5, "people.leads: 'ben' is not a user ID"),
        (("unit: days", "unit: weeks"), 19, "remedies[2].unit: the only unit is 'days'"),
        (("alone_up_to: 7", "alone_up_to: 7.5"), 20, "must be a whole number of days"),
        (("id: meal", "id: refund"), 6, "remedy id 'refund' is used twice"),
        (
            ("lead_up_to: 60", "lead_up_to: -1"),
            27,
            "remedies[3].lead_up_to: Input should be greater than or equal to 0",
        ),
    ],
)
def test_policy_errors_name_the_key_and_line(edit: tuple[str, str], line: int, message: str) -> None:
    text = TEAM_POLICY.replace(*edit)
    assert text != TEAM_POLICY
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, source="policy.yml")
    assert f"policy.yml line {line}: " in str(raised.value)
    assert message in str(raised.value)


def test_all_tiers_zero_is_rejected() -> None:
    text = TEAM_POLICY.replace(
        "alone_up_to: 25\n    peer_up_to: 0\n    lead_up_to: 60", "alone_up_to: 0\n    peer_up_to: 0\n    lead_up_to: 0"
    )
    with pytest.raises(PolicyError, match="at least one of alone_up_to"):
        parse_policy(text)


def test_broken_yaml_names_the_line() -> None:
    with pytest.raises(PolicyError, match=r"policy.yml line 4: not valid YAML \(a flow sequence started on line 3"):
        parse_policy("currency: USD\nchannels:\n  requests: [C0REQ\n", source="policy.yml")


def test_the_example_policy_shipped_with_leeway_is_valid() -> None:

    policy = load_policy(Path(__file__).parents[2] / "bot" / "policy.example.yml")
    assert [r.id for r in policy.remedies] == ["refund", "late_fee", "extension", "meal"]


@pytest.mark.parametrize(
    ("amount", "unit", "shown"),
    [
        ("40", "USD", "$40"),
        ("25.5", "USD", "$25.50"),
        ("1234.5", "USD", "$1,234.50"),
        ("12", "CHF", "12 CHF"),
        ("1", "days", "1 day"),
        ("7", "days", "7 days"),
    ],
)
def test_amounts_read_naturally(amount: str, unit: str, shown: str) -> None:
    assert format_amount(Decimal(amount), unit) == shown


def test_a_key_given_twice_is_an_error() -> None:
    with pytest.raises(PolicyError, match=r"policy.yml line 2: currency is given twice"):
        parse_policy(TEAM_POLICY.replace("currency: USD\n", "currency: USD\ncurrency: EUR\n"), source="policy.yml")


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

limits = st.integers(min_value=0, max_value=10_000).map(Decimal)


@settings(max_examples=300, deadline=None)
@given(limits, limits, limits, st.decimals(min_value=Decimal("0.01"), max_value=Decimal(20_000), places=2))
def test_no_amount_reaches_a_tier_above_its_limits(
    alone: Decimal, peer: Decimal, lead: Decimal, amount: Decimal
) -> None:
    try:
        remedy = Remedy(id="r", label="R", alone_up_to=alone, peer_up_to=peer, lead_up_to=lead)
    except ValueError:
        return  # limits that don't rise, or all zero: the policy file is refused
    tier = remedy.tier_for(amount)
    if tier is Tier.OUT_OF_POLICY:
        assert amount > remedy.highest_limit
    else:
        assert remedy.limit(tier) > 0
        assert amount <= remedy.limit(tier)
        order = (Tier.ALONE, Tier.PEER, Tier.LEAD)
        cheaper = order[: order.index(tier)]
        assert all(remedy.limit(t) == 0 or amount > remedy.limit(t) for t in cheaper)  # no cheaper tier fits


@settings(max_examples=300, deadline=None)
@given(
    st.decimals(min_value=Decimal(0), max_value=Decimal(1_000), places=2),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1_000), places=2),
)
def test_a_limit_cannot_be_split(already: Decimal, amount: Decimal) -> None:
    """Whatever was granted before, a case's total never gets past a tier's limit in that tier."""
    remedy = POLICY.remedy("refund")
    assert remedy is not None
    tier = remedy.tier_for(amount, already=already)
    assert tier is remedy.tier_for(already + amount)
