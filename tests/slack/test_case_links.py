"""Every view that names a case links it when the policy has a case_url, and keeps the
notification's plain-text fallback plain."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from bot import services
from bot.core.lifecycle import Status
from bot.core.policy import CaseSoFar
from bot.policy_file import parse_policy
from bot.slack import views
from bot.slack.views.markup import unlinked
from storage.models import Decision
from tests.policies import TEAM_POLICY
from tests.slack.test_views import make_proposal

URL = "https://desk.example/t/{case_number}"
POLICY = parse_policy(TEAM_POLICY + f'case_url: "{URL}"\n')
LINK = "<https://desk.example/t/4711|#4711>"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PENDING = make_proposal()
GRANTED = make_proposal(status=Status.GRANTED, decided_by="U0BEN", decided_at=NOW)
DECISION = Decision(proposal_id=7, agreed_by="U0BEN", seconds_to_decision=60, reviewed_by="U0LEE", coaching_note="hi")


def shown(message: views.Message) -> str:
    return json.dumps(message.as_kwargs().get("blocks") or []) + message.text


def test_posts_link_the_case_and_their_fallbacks_do_not() -> None:
    for message in (
        views.request(PENDING, case_url=URL),
        views.request(GRANTED, case_url=URL),
        views.request(make_proposal(status=Status.EXPIRED), case_url=URL),
        views.decision(GRANTED, case_url=URL),
        views.kudos(GRANTED, case_url=URL),
        views.proposer_note(GRANTED, POLICY),
        views.proposer_note(make_proposal(status=Status.EXPIRED), POLICY),
        views.proposer_note(make_proposal(status=Status.DECLINED, decided_by="U0BEN"), POLICY),
        views.coaching_note(GRANTED, DECISION, case_url=URL),
        views.granted_alone(GRANTED, POLICY),
        views.asked(PENDING, POLICY, CaseSoFar(granted=Decimal(80))),
    ):
        blocks = json.dumps(message.as_kwargs()["blocks"])
        assert LINK in blocks, message.text
        assert "<https://" not in message.text, message.text


def test_text_only_messages_link_the_case_in_their_text() -> None:
    assert LINK in views.reroute_ping(PENDING, "U0CHO", case_url=URL).text
    withdrawn = views.outcome_words(services.Withdrawn(PENDING), POLICY)
    assert LINK in withdrawn.text
    beyond = views.out_of_policy(
        POLICY.remedies[0], Decimal(400), POLICY, already=CaseSoFar(granted=Decimal(200)), case_ref="#4711"
    )
    assert LINK in json.dumps(beyond.as_kwargs()["blocks"])


def test_forms_reviews_and_the_home_link_the_case() -> None:
    assert LINK in json.dumps(views.decline_form(PENDING, channel=None, case_url=URL).to_dict())
    assert LINK in json.dumps(views.coaching_form(GRANTED, case_url=URL).to_dict())
    assert LINK in shown(views.review_message([(GRANTED, DECISION)], 1, case_url=URL))
    home = services.Home(
        user="U0ANA",
        is_agent=True,
        is_lead=False,
        pending=[PENDING],
        waiting=[],
        recent=[GRANTED],
        kudos=0,
        review=[],
        review_total=0,
        week=None,
    )
    assert json.dumps(views.home(home, POLICY).to_dict()).count(LINK) == 2


def test_without_a_case_url_nothing_is_linked() -> None:
    assert "<https://" not in shown(views.request(PENDING))
    assert "*#4711*" in shown(views.decision(GRANTED))


def test_unlinked_keeps_the_label_mentions_and_channels() -> None:
    assert unlinked(f"<@U1> in <#C1> on {LINK}") == "<@U1> in <#C1> on #4711"
