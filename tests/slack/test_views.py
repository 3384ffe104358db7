"""What each result reads as, and the small rules of Slack's shapes the views keep."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot import services
from bot.core.lifecycle import Status
from bot.core.policy import Tier
from bot.core.timing import WorkingHours, parse_days, zone
from bot.core.vocabulary import ReviewOutcome
from bot.slack import ids, views
from bot.slack.views.markup import SECTION_LIMIT, rendered_section, section, time_taken
from bot.slack.views.outcomes import outcome_blocks
from storage.models import Proposal
from tests.policies import DECISIONS, KUDOS, REQUESTS, team_policy

POLICY = team_policy()
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def make_proposal(**facts: Any) -> Proposal:
    """A proposal as the database would hand it over: Ana's $90 refund, asking Ben."""
    values: dict[str, Any] = {
        "id": 7,
        "remedy_id": "refund",
        "remedy_label": "Refund",
        "unit": "USD",
        "amount": Decimal("90.00"),
        "customer_fair": None,
        "case_ref": "#4711",
        "summary": "charged twice",
        "tier": Tier.PEER,
        "proposer": "U0ANA",
        "asked": "U0BEN",
        "status": Status.PENDING,
        "created_at": NOW,
        "decided_at": None,
        "decided_by": None,
        "decline_reason": None,
    }
    return Proposal(**{**values, **facts})


PENDING = make_proposal()
GRANTED = make_proposal(status=Status.GRANTED, decided_by="U0BEN", decided_at=NOW)


@pytest.mark.parametrize(
    ("result", "text"),
    [
        (services.Refused("Only leads can see usage."), "Only leads can see usage."),
        (services.NotFound(), "That request no longer exists."),
        (services.NoSuchDecision(), "That decision no longer exists."),
        (services.AlreadyReviewed(GRANTED), "Someone already reviewed that decision."),
        (
            services.AlreadyDecided(GRANTED),
            "This one is already granted: <@U0BEN> agreed first. Thanks for jumping in!",
        ),
        # a decline and a withdrawal read the same: closing says nothing more
        (services.AlreadyDecided(make_proposal(status=Status.DECLINED)), "This request is already closed."),
        (services.AlreadyDecided(make_proposal(status=Status.WITHDRAWN)), "This request is already closed."),
        (
            services.AlreadyDecided(make_proposal(status=Status.EXPIRED)),
            "This request is already expired; nothing can change it now.",
        ),
        (
            services.Withdrawn(make_proposal(case_ref="<#4711>")),
            "Withdrawn: your *Refund: $90* for case *&lt;#4711&gt;*. Nothing was granted, and no one will be "
            "asked about it.",
        ),
        (services.Reviewed(GRANTED, ReviewOutcome.LOOKS_GOOD), "Reviewed: <@U0ANA>'s *Refund: $90* (looks good)."),
        (
            services.Reviewed(GRANTED, ReviewOutcome.TALK),
            "Reviewed: <@U0ANA>'s *Refund: $90* (you'll talk it through).",
        ),
        (
            services.MarkedAway(None),
            ":palm_tree: You're away. Leeway won't ask you to agree to anything or ping you until then. "
            "Type `/remedy back` when you return.",
        ),
        (
            services.MarkedAway(datetime(2026, 12, 1, 8, 30, tzinfo=UTC)),
            ":palm_tree: You're away until 2026-12-01 08:30 UTC. Leeway won't ask you to agree to anything or "
            "ping you until then. Type `/remedy back` when you return.",
        ),
        (services.MarkedBack(was_away=True), "Welcome back! Leeway will ask you again when a peer is needed."),
        (services.MarkedBack(was_away=False), "You weren't marked away, so nothing changed."),
        (
            services.Granted(make_proposal(status=Status.DECLINED)),
            "That proposal for case #4711 is already declined.",
        ),
    ],
)
def test_each_result_in_words(result: views.Outcome, text: str) -> None:
    assert views.outcome_words(result, POLICY) == views.Message(text=text)


def test_a_grant_within_ones_own_authority_says_where_it_is_recorded() -> None:
    alone = make_proposal(tier=Tier.ALONE, status=Status.GRANTED, decided_by="U0ANA", decided_at=NOW, asked=None)
    message = views.outcome_words(services.Granted(alone), POLICY)
    assert message.text.startswith(":white_check_mark: *Granted — go ahead.* *Refund: $90* for case *#4711*")
    assert f"<#{DECISIONS}>" in message.text
    assert f"<#{KUDOS}>" in message.text


@pytest.mark.parametrize("result", [services.Asked(PENDING), services.Granted(PENDING)])
def test_a_request_asked_for_can_be_withdrawn(result: views.Outcome) -> None:
    message = views.outcome_words(result, POLICY)
    assert f"so I've asked <@U0BEN> in <#{REQUESTS}>" in message.text
    (actions,) = [b for b in message.as_kwargs()["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [(ids.Action.WITHDRAW, "7")]


def test_out_of_policy_in_a_reply_and_under_the_amount() -> None:
    remedy = POLICY.remedy("refund")
    assert remedy is not None
    result = services.OutOfPolicy(remedy, Decimal(900))
    assert views.outcome_words(result, POLICY).text.startswith("*Refund: $900* is outside Leeway's policy")
    assert views.proposal_form_errors(result, POLICY) == {
        ids.Block.AMOUNT: "$900 is outside policy: the most a lead can approve is $500."
    }
    assert views.proposal_form_errors(services.Refused("Ben is away."), POLICY) == {ids.Block.PEER: "Ben is away."}


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("", ""),
        ("x" * 150, "x" * 150),
        ("x" * 151, "x" * 150),
        ("é" * 400, "é" * 150),
    ],
)
def test_a_form_error_is_cut_to_what_slack_shows(text: str, shown: str) -> None:
    assert views.form_errors({"reason": text, "peer": "short"}) == {"reason": shown, "peer": "short"}


@pytest.mark.parametrize(
    ("block", "proposal_id", "block_id"),
    [(ids.Block.REVIEW_ITEM, 42, "review_42"), (ids.Block.WAITING_ITEM, 7, "waiting_7")],
)
def test_a_list_item_has_its_own_block_id(block: ids.Block, proposal_id: int, block_id: str) -> None:
    assert ids.item_block(block, proposal_id) == block_id


@pytest.mark.parametrize(
    "text",
    [":white_check_mark: *Granted* for <#C0DEC> — déjà vu 🎁", "a\nb", "x" * SECTION_LIMIT, "é" * (SECTION_LIMIT + 9)],
)
def test_a_section_rendered_from_its_shape_is_the_one_the_models_render(text: str) -> None:
    assert rendered_section(text) == section(text).to_dict()
    assert json.dumps(rendered_section(text)) == json.dumps(section(text).to_dict())


def test_a_grant_within_ones_own_authority_reads_as_the_models_render_it() -> None:
    granted = make_proposal(status=Status.GRANTED, tier=Tier.ALONE, asked=None)
    message = views.outcome_words(services.Granted(granted), POLICY)
    first, *rest = message.as_kwargs()["blocks"]
    assert first == section(message.as_kwargs()["blocks"][0]["text"]["text"]).to_dict()
    assert "Granted — go ahead." in first["text"]["text"]
    assert rest == list(outcome_blocks(granted.id))


def test_a_decision_made_wholly_outside_working_hours_says_so_rather_than_instantly() -> None:
    hours = WorkingHours(tz=zone("UTC"), days=parse_days("mon-fri"), opens=time(9), closes=time(18))
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    weekend = make_proposal(
        status=Status.GRANTED, decided_by="U0BEN", created_at=saturday, decided_at=saturday + timedelta(hours=3)
    )
    for message in (views.decision(weekend, hours=hours), views.request(weekend, hours=hours)):
        shown = json.dumps(message.as_kwargs()["blocks"])
        assert "outside working hours" in shown
        assert "instantly" not in shown
    # Without working hours, the clock is all there is: the same three hours.
    assert "3 h" in json.dumps(views.decision(weekend).as_kwargs()["blocks"])


@pytest.mark.parametrize(
    ("working", "waited", "shown"),
    [
        (0, 0, "instantly"),
        (0, 3 * 3600, "outside working hours"),  # a Saturday's wait, no working time in it
        (420, 62 * 3600, "7 min"),  # Friday night to 09:07 on Monday
        (420, 420, "7 min"),
    ],
)
def test_the_time_a_decision_took_is_its_working_time(working: int, waited: int, shown: str) -> None:
    assert time_taken(working, waited_seconds=waited) == shown
