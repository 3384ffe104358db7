"""Tokens, scopes, the idempotency fingerprint and the rate window, as plain rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.api.models import ProposalRequest
from bot.api.problems import field_name
from bot.core import integrations as rules
from bot.core.integrations import IntegrationError
from bot.core.vocabulary import Scope


def test_a_token_is_long_prefixed_and_only_its_hash_matches_it() -> None:
    token = rules.new_token()
    assert token.startswith("lw_")
    assert len(token) >= 40
    assert token != rules.new_token()
    stored = rules.token_hash(token)
    assert len(stored) == 64
    assert token not in stored
    assert rules.hash_matches(stored, token)
    assert not rules.hash_matches(stored, token + "x")
    assert not rules.hash_matches(stored, rules.new_token())


@pytest.mark.parametrize(
    ("typed", "scopes"),
    [
        ([], {Scope.PROPOSE}),
        (["read"], {Scope.READ}),
        (["propose", "READ", "read"], {Scope.PROPOSE, Scope.READ}),
    ],
)
def test_scopes_as_typed(typed: list[str], scopes: set[Scope]) -> None:
    parsed = rules.parse_scopes(typed)
    assert parsed == scopes
    assert rules.read_scopes(rules.stored_scopes(parsed)) == parsed


def test_stored_scopes_read_in_a_fixed_order() -> None:
    assert rules.stored_scopes({Scope.READ, Scope.PROPOSE}) == "propose read"


def test_an_unknown_scope_says_which_there_are() -> None:
    with pytest.raises(IntegrationError, match="the scopes are propose, read"):
        rules.parse_scopes(["write"])


@pytest.mark.parametrize("name", ["helpdesk", "zendesk-sidebar", "a", "A.b_c-1", "x" * 64])
def test_good_names(name: str) -> None:
    assert rules.check_name(name) == name


@pytest.mark.parametrize("name", ["", "-helpdesk", "with space", "x" * 65, "naïve", "a/b"])
def test_bad_names_say_what_a_name_may_be(name: str) -> None:
    with pytest.raises(IntegrationError, match="letters, digits"):
        rules.check_name(name)


def body(**changes: object) -> ProposalRequest:
    fields: dict[str, object] = {
        "remedy": "late_fee",
        "amount": "15",
        "case": "#4711",
        "what_happened": "Charged twice.",
        "requested_by": "agent",
        "agent": "U0ANA",
        **changes,
    }
    return ProposalRequest.model_validate(fields)


def test_the_same_request_spelled_differently_has_one_fingerprint() -> None:
    first = rules.fingerprint(body().canonical())
    assert rules.fingerprint(body(amount=15).canonical()) == first
    assert rules.fingerprint(body(amount="15.00").canonical()) == first
    assert rules.fingerprint(body(amount=Decimal("15.0")).canonical()) == first


@pytest.mark.parametrize(
    "change",
    [{"amount": "15.01"}, {"case": "#4712"}, {"what_happened": "Charged thrice."}, {"fair": "10"}, {"agent": "U0BEN"}],
)
def test_any_other_request_has_another_fingerprint(change: dict[str, object]) -> None:
    assert rules.fingerprint(body(**change).canonical()) != rules.fingerprint(body().canonical())


@pytest.mark.parametrize(
    ("now", "window", "wait"),
    [
        (datetime(2026, 11, 24, 9, 0, 0, tzinfo=UTC), datetime(2026, 11, 24, 9, 0, tzinfo=UTC), 60),
        (datetime(2026, 11, 24, 9, 0, 59, 500_000, tzinfo=UTC), datetime(2026, 11, 24, 9, 0, tzinfo=UTC), 1),
        (datetime(2026, 11, 24, 9, 7, 30, 100, tzinfo=UTC), datetime(2026, 11, 24, 9, 7, tzinfo=UTC), 30),
    ],
)
def test_the_rate_window_is_the_minute_and_retry_after_its_end(now: datetime, window: datetime, wait: int) -> None:
    assert rules.rate_window(now) == window
    assert rules.retry_after(now) == wait


@pytest.mark.parametrize(
    ("loc", "field"),
    [
        (("body", "amount"), "amount"),
        (("body", "customer", "id"), "customer.id"),
        (("header", "Idempotency-Key"), "Idempotency-Key"),
        (("query", "since"), "since"),
        (("body",), "body"),
    ],
)
def test_a_validation_error_names_the_field_as_the_client_wrote_it(loc: tuple[str, ...], field: str) -> None:
    assert field_name(loc) == field
