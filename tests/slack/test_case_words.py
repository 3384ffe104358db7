"""Why a proposal needs more than its amount alone would: what its case already has, in words."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot import services
from bot.core.policy import CaseSoFar, Tier
from bot.slack import views
from tests.slack.test_views import POLICY, make_proposal


@pytest.mark.parametrize(
    ("facts", "already", "says"),
    [
        (
            {},
            CaseSoFar(granted=Decimal(80)),
            "Proposed *Refund: $90* for case *#4711*: with the $80 already granted on #4711 this needs a peer's "
            "agreement, so I've asked <@U0BEN>",
        ),
        (
            {"tier": Tier.LEAD, "asked": "U0LEE"},
            CaseSoFar(granted=Decimal(40), waiting=Decimal("25.50")),
            "with the $65.50 already granted or waiting on #4711 this needs a lead's agreement, so I've asked <@U0LEE>",
        ),
        (
            {"remedy_label": "Extend a course", "unit": "days", "amount": Decimal(5), "case_ref": "C-<77>"},
            CaseSoFar(waiting=Decimal(5)),
            "for case *C-&lt;77&gt;*: with the 5 days already granted or waiting on C-&lt;77&gt; this needs",
        ),
        ({}, CaseSoFar(), "Proposed *Refund: $90* for case *#4711*. It needs a peer's agreement"),
    ],
)
def test_an_ask_says_what_the_case_already_has(facts: dict[str, object], already: CaseSoFar, says: str) -> None:
    result = services.Asked(make_proposal(**facts), already)
    assert says in views.outcome_words(result, POLICY).text


def refund() -> services.OutOfPolicy:
    remedy = POLICY.remedy("refund")
    assert remedy is not None
    return services.OutOfPolicy(remedy, Decimal(100), "#4711", CaseSoFar(granted=Decimal(300), waiting=Decimal(150)))


def test_out_of_policy_by_the_sum_says_what_still_fits() -> None:
    text = views.outcome_words(refund(), POLICY).text
    assert text.startswith(
        "*Refund: $100* is outside Leeway's policy: with the $450 already granted or waiting on #4711 it comes "
        "to $550, and the most a lead can approve is $500. Nothing was routed or granted.\n"
    )
    assert text.endswith("You could offer up to $50 more on this case, or take this one to your lead directly.")


def test_out_of_policy_when_nothing_more_fits() -> None:
    full = services.OutOfPolicy(refund().remedy, Decimal(1), "#4711", CaseSoFar(granted=Decimal(500)))
    assert views.outcome_words(full, POLICY).text.endswith(
        "Nothing more fits on this case for now: take this one to your lead directly."
    )


def test_the_form_says_it_under_the_amount() -> None:
    errors = views.proposal_form_errors(refund(), POLICY)
    assert set(errors.values()) == {
        "With the $450 already granted or waiting on #4711, $100 is outside policy: the most a lead can approve "
        "is $500."
    }
