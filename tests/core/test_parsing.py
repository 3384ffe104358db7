import sys
import unicodedata
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.parsing import (
    Away,
    Back,
    Command,
    Draft,
    Help,
    InputError,
    Limits,
    Withdraw,
    check_text,
    parse_amount,
    parse_command,
    parse_form,
)
from bot.core.policy import Tier
from bot.policy_file import parse_policy
from tests.policies import TEAM_POLICY, team_policy

POLICY = team_policy()


def parse(text: str) -> Draft:
    result = parse_command(text, POLICY)
    assert isinstance(result, Draft)
    return result


def test_the_one_line_form() -> None:
    draft = parse("refund 40 #4711 parcel arrived broken")
    assert draft == Draft(
        remedy_id="refund", amount=Decimal("40.00"), case_ref="#4711", summary="parcel arrived broken"
    )
    assert draft.complete


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("refund 25 #1 x", "25"),
        ("refund 25.50 #1 x", "25.50"),
        ("refund $25 #1 x", "25"),
        ("refund 25 USD #1 x", "25"),
        ("refund 25usd #1 x", "25"),
        ("refund 1,250 #1 x", "1250"),
        ("refund USD25 #1 x", "25"),
        ("extension 7d #1 x", "7"),
        ("extension 7 days #1 x", "7"),
        ("extension 7 #1 x", "7"),
    ],
)
def test_amount_forms(text: str, amount: str) -> None:
    assert parse(text).amount == Decimal(amount)


@pytest.mark.parametrize(
    ("word", "remedy"),
    [
        ("refund", "refund"),
        ("REFUND", "refund"),
        ("ref", "refund"),
        ("late", "late_fee"),
        ("waive", "late_fee"),
        ("Extend", "extension"),
        ("free", "meal"),
        ("late_fee", "late_fee"),
    ],
)
def test_remedy_by_id_or_unambiguous_prefix(word: str, remedy: str) -> None:
    assert parse(f"{word} 5 #1 something").remedy_id == remedy


def test_mention_anywhere_names_the_peer() -> None:
    assert parse("refund 80 #4711 <@U0BEN|ben> parcel broken").peer == "U0BEN"
    assert parse("<@U0BEN> refund 80 #4711 parcel broken").peer == "U0BEN"
    draft = parse("refund 80 #4711 parcel broken <@U0BEN|ben>")
    assert (draft.peer, draft.summary) == ("U0BEN", "parcel broken")


def test_fair_anywhere() -> None:
    draft = parse("refund 40 #4711 fair:25 parcel arrived broken")
    assert (draft.fair, draft.summary) == (Decimal("25.00"), "parcel arrived broken")
    assert parse("fair:$0 refund 40 #4711 sorry").fair == Decimal("0.00")
    assert parse("refund 40 #4711 late FAIR: 30").fair == Decimal("30.00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Draft()),
        ("refund", Draft(remedy_id="refund")),
        ("refund 40", Draft(remedy_id="refund", amount=Decimal("40.00"))),
        ("refund 40 #4711", Draft(remedy_id="refund", amount=Decimal("40.00"), case_ref="#4711")),
        # no reference among the words: ask for it rather than guess
        ("refund 40 parcel broke", Draft(remedy_id="refund", amount=Decimal("40.00"), summary="parcel broke")),
        ("<@U0BEN>", Draft(peer="U0BEN")),
    ],
)
def test_incomplete_text_is_a_partial_draft(text: str, expected: Draft) -> None:
    draft = parse(text)
    assert draft == expected
    assert not draft.complete


def test_help_and_limits() -> None:
    assert isinstance(parse_command("help", POLICY), Help)
    assert isinstance(parse_command("  LIMITS ", POLICY), Limits)


def test_escaped_text_is_stored_as_typed() -> None:
    draft = parse("refund 40 #4711 box &amp; contents &lt;broken&gt; see <https://example.com/x|the photo>")
    assert draft.summary == "box & contents <broken> see https://example.com/x"


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        ("teleport 40 #1 x", "remedy_id", "I don't know the remedy `teleport`"),
        ("refund -5 #1 x", "amount", "more than zero"),
        ("refund 0 #1 x", "amount", "more than zero"),
        ("refund 0.00 #1 x", "amount", "more than zero"),
        ("refund abc #1 x", "amount", "isn't an amount"),
        ("refund 1e5 #1 x", "amount", "isn't an amount"),
        ("refund NaN #1 x", "amount", "isn't an amount"),
        ("refund Infinity #1 x", "amount", "isn't an amount"),
        ("refund 99999999999999999999 #1 x", "amount", "far too large"),
        ("refund 25.555 #1 x", "amount", "at most two decimals"),
        ("refund 1,25 #1 x", "amount", "isn't an amount"),
        ("refund €25 #1 x", "amount", "in USD"),
        ("refund 25 EUR #1 x", "amount", "in USD"),
        ("refund 7d #1 x", "amount", "not days"),
        ("extension 7.5 #1 x", "amount", "whole days"),
        ("extension $7 #1 x", "amount", "counted in days"),
        ("refund ٤٠ #1 x", "amount", "digits 0–9"),
        ("refund ４０ #1 x", "amount", "digits 0–9"),
        ("refund 40 #1 <@U0BEN> <@U0CHO> x", "peer", "mentioned 2 people"),
        ("refund 40 #1 <!here> x", "peer", "not a crowd"),
        ("refund 40 #1 <!subteam^S0TEAM|@support> x", "peer", "not a crowd"),
        ("refund 40 #1 x fair:", "fair", "needs an amount"),
        ("refund 40 #1 x fair:1 fair:2", "fair", "once"),
        ("refund 40 #1 x fair:-3", "fair", "more than zero"),
        ("fair:3", "remedy_id", "Name the remedy first"),
        ("refund 40 #1 parcel\x00broken", None, "control characters"),
        ("refund 40 #1 " + "x" * 4000, None, "characters long"),
        ("refund 40 " + "#" + "1" * 80 + " x", "case_ref", "characters long"),
    ],
)
def test_bad_input_gets_a_precise_message(text: str, field: str | None, says: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_command(text, POLICY)
    assert says in raised.value.message
    assert raised.value.field == field


def test_an_ambiguous_prefix_asks_for_more() -> None:

    policy = parse_policy(TEAM_POLICY.replace("id: meal\n    label: Free meal", "id: reship\n    label: Reship"))
    with pytest.raises(InputError, match="`re` could mean `refund`, `reship`"):
        parse_command("re 5 #1 x", policy)
    assert isinstance(parse_command("ref 5 #1 x", policy), Draft)


def test_amount_parser_is_shared_with_the_form() -> None:
    remedy = POLICY.remedy("refund")
    assert remedy is not None
    assert parse_amount(" $1,234.5 ", remedy, POLICY) == Decimal("1234.50")


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_no_text_crashes_the_parser(text: str) -> None:
    try:
        result = parse_command(text, POLICY)
    except InputError as error:
        assert error.message.strip()  # noqa: PT017  (either outcome is fine; a crash is not)
        return
    assert isinstance(result, Command)


amount_words = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.text(alphabet="0123456789.,$-dUSD ", max_size=12),
    st.integers().map(str),
)


@settings(max_examples=400, deadline=None)
@given(amount_words)
def test_no_amount_reaches_a_tier_it_should_not(word: str) -> None:
    """Whatever is typed, an accepted amount is positive and its tier is the one the limits give."""
    try:
        draft = parse(f"refund {word} #4711 parcel")
    except InputError as error:
        assert error.message.strip()  # noqa: PT017  (either outcome is fine; a crash is not)
        return
    if draft.amount is None:
        return
    assert draft.amount > 0
    remedy = POLICY.remedy("refund")
    assert remedy is not None
    tier = remedy.tier_for(draft.amount)
    if draft.amount <= 50:
        assert tier is Tier.ALONE
    elif draft.amount <= 150:
        assert tier is Tier.PEER
    elif draft.amount <= 500:
        assert tier is Tier.LEAD
    else:
        assert tier is Tier.OUT_OF_POLICY


def test_away_back_and_withdraw() -> None:

    assert parse_command("away", POLICY) == Away()
    assert parse_command("away until 2026-12-01", POLICY) == Away(until=date(2026, 12, 1))
    assert parse_command("AWAY for 3d", POLICY) == Away(duration=timedelta(days=3))
    assert parse_command("back", POLICY) == Back()
    assert parse_command("withdraw #4711", POLICY) == Withdraw("#4711")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("away until tomorrow", "isn't a date"),
        ("away until 2026-02-30", "isn't a real date"),
        ("away for ages", "isn't a duration"),
        ("away on holiday", "/remedy away until"),
        ("withdraw", "Give its case reference"),
    ],
)
def test_bad_away_and_withdraw(text: str, says: str) -> None:
    with pytest.raises(InputError, match=None) as raised:
        parse_command(text, POLICY)
    assert says in raised.value.message


def test_a_case_reference_carries_a_number() -> None:
    assert parse("refund 40 #broken parcel").case_ref is None
    assert parse("refund 40 #broken parcel").summary == "#broken parcel"
    assert parse("refund 40 <#C0123|support> x").case_ref is None


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(InputError, match="control characters"):
        parse_command("refund 40 #1 bad \ud800 text", POLICY)


def test_the_characters_refused_are_exactly_unicodes_controls_and_surrogates() -> None:
    """Every character of the Basic Multilingual Plane (where categories Cc and Cs all are) and
    one in each 256 beyond it: refused as control characters exactly when Unicode says so."""
    refused, controls = [], []
    for code in [*range(0x10000), *range(0x10000, sys.maxunicode + 1, 0x100)]:
        ch = chr(code)
        if unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\r\t":
            controls.append(code)
        try:
            check_text(f"a{ch}b", limit=10, what="It")
        except InputError as error:
            refused.append((code, "control characters" in error.message))
    assert refused == [(code, True) for code in controls]
    assert len(controls) == 62 + 2048  # Cc (but newlines and tabs) and the surrogates


FORM: dict[str, str | None] = {
    "remedy_id": "refund",
    "amount": "40",
    "case_ref": "#4711",
    "summary": "parcel arrived broken",
    "fair": None,
    "peer": None,
}
GOOD = Draft(remedy_id="refund", amount=Decimal("40.00"), case_ref="#4711", summary="parcel arrived broken")


def form(**typed: str | None) -> Draft | dict[str, str]:
    """The proposal form, filled in well, with `typed` over it (None: left empty)."""
    return parse_form(POLICY, **{**FORM, **typed})


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ({}, GOOD),
        (
            {"amount": " $1,234.5 ", "case_ref": " #4711 ", "summary": " broken \n"},
            replace(GOOD, amount=Decimal("1234.50"), summary="broken"),
        ),
        ({"fair": "25", "peer": "U0BEN"}, replace(GOOD, fair=Decimal("25.00"), peer="U0BEN")),
        # the customer may think nothing at all is fair; a blank answer is no answer
        ({"fair": "0"}, replace(GOOD, fair=Decimal("0.00"))),
        ({"fair": "  "}, GOOD),
        ({"remedy_id": "extension", "amount": "7d"}, replace(GOOD, remedy_id="extension", amount=Decimal("7"))),
    ],
)
def test_a_filled_form_is_a_complete_draft(typed: dict[str, str | None], expected: Draft) -> None:
    draft = form(**typed)
    assert draft == expected
    assert isinstance(draft, Draft)
    assert draft.complete


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # every problem at once, in the form's order
        (
            {"remedy_id": None, "amount": None, "case_ref": None, "summary": None},
            {
                "remedy_id": "Choose a remedy.",
                "case_ref": "The case reference is missing.",
                "summary": "Say in a few words what happened.",
            },
        ),
        # without a remedy the amount can't be read, so it isn't judged
        ({"remedy_id": None, "amount": "abc"}, {"remedy_id": "Choose a remedy."}),
        ({"remedy_id": "teleport"}, {"remedy_id": "I don't know the remedy `teleport`"}),
        ({"amount": None}, {"amount": "The amount is missing."}),
        ({"amount": "-4", "fair": "abc"}, {"amount": "more than zero", "fair": "isn't an amount"}),
        ({"remedy_id": "extension", "amount": "7.5"}, {"amount": "whole days"}),
        ({"case_ref": "a b c d e"}, {"case_ref": "should be short"}),
        ({"case_ref": "#1\x00"}, {"case_ref": "control characters"}),
        ({"summary": "x" * 2000}, {"summary": "characters long"}),
        ({"summary": "   "}, {"summary": "Say in a few words what happened."}),
    ],
)
def test_a_form_with_problems_says_each_under_its_field(typed: dict[str, str | None], expected: dict[str, str]) -> None:
    errors = form(**typed)
    assert isinstance(errors, dict)
    assert list(errors) == list(expected)
    for field, says in expected.items():
        assert says in errors[field]
