"""Every kind has one renderer, and the kinds that need nothing but their row render from it alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import sessionmaker

from bot.core.limits import for_person
from bot.core.vocabulary import OutboxKind
from bot.outbox.kinds import POSTS, UNPACED, WEBHOOKS
from bot.outbox.rendering import RENDERERS, RESPOND, Delivery, Drop, Reader, render
from bot.policy_file import parse_policy
from storage.models import OutboxMessage
from tests.policies import TEAM_POLICY


def nobody(_user: str) -> Any:
    raise AssertionError("no Home is rendered here")


# Never opened: these renderers read nothing but the message.
POLICY = parse_policy(TEAM_POLICY)
READER = Reader(sessionmaker(), lambda: POLICY, nobody)


def test_every_kind_has_a_renderer_and_is_paced_or_not() -> None:
    # Every kind goes to Slack (paced or not) and has a renderer, but webhooks, which have their own sender.
    assert set(RENDERERS) == set(OutboxKind) - WEBHOOKS
    assert set(OutboxKind) == POSTS | UNPACED | WEBHOOKS
    assert not POSTS & UNPACED
    assert not (POSTS | UNPACED) & WEBHOOKS


@pytest.mark.parametrize(
    ("kind", "channel", "user", "detail", "delivery"),
    [
        (
            OutboxKind.EPHEMERAL,
            "C0REQ",
            "U0ANA",
            {"text": "only you"},
            Delivery("chat.postEphemeral", {"channel": "C0REQ", "user": "U0ANA", "text": "only you"}),
        ),
        (
            OutboxKind.NOTICE,
            "U0ANA",
            None,
            {"text": "hello"},
            Delivery("chat.postMessage", {"channel": "U0ANA", "text": "hello"}),
        ),
        (
            OutboxKind.NOTICE,
            "U0ANA",
            None,
            {"text": "hello", "blocks": [{"type": "divider"}]},
            Delivery("chat.postMessage", {"channel": "U0ANA", "text": "hello", "blocks": [{"type": "divider"}]}),
        ),
        (
            OutboxKind.RESPONSE,
            "C0ANY",
            "U0ANA",
            {"response_url": "https://hooks.example/r/1", "text": "done"},
            Delivery(
                RESPOND,
                {
                    "url": "https://hooks.example/r/1",
                    "text": "done",
                    "response_type": "ephemeral",
                    "replace_original": False,
                },
            ),
        ),
        (
            OutboxKind.RESPONSE,
            "C0ANY",
            "U0LEE",
            {"response_url": "https://hooks.example/r/2", "text": "report", "blocks": [{"type": "divider"}]},
            Delivery(
                RESPOND,
                {
                    "url": "https://hooks.example/r/2",
                    "text": "report",
                    "blocks": [{"type": "divider"}],
                    "response_type": "ephemeral",
                    "replace_original": False,
                },
            ),
        ),
    ],
)
def test_a_message_that_carries_its_words_renders_from_its_row(
    kind: OutboxKind, channel: str, user: str | None, detail: dict[str, Any], delivery: Delivery
) -> None:
    message = OutboxMessage(kind=kind, channel=channel, user=user, detail=detail)
    assert render(message, READER) == delivery


def test_an_unknown_kind_is_dropped() -> None:
    with pytest.raises(Drop, match="unknown message kind 'carrier_pigeon'"):
        render(OutboxMessage(kind="carrier_pigeon", channel="C0REQ", detail={}), READER)


def test_a_welcome_and_a_nudge_promise_the_agents_own_alone_limit() -> None:
    """An agent a lead offered a personal limit is told that limit, not the team's."""
    team = POLICY.remedy("late_fee")
    assert team is not None
    assert team.alone_up_to == 20
    personal = for_person(POLICY, "U0ANA", {("U0ANA", "late_fee"): Decimal(40)})
    reader = Reader(
        sessionmaker(), lambda: POLICY, nobody, policy_for=lambda person: personal if person == "U0ANA" else POLICY
    )
    example = {
        "proposer": "U0BEN",
        "remedy_id": "late_fee",
        "remedy_label": "Waive a late fee",
        "amount": "15",
        "unit": "USD",
        "granted_at": "2026-01-06T10:00:00+00:00",
    }
    at = datetime(2026, 1, 8, 10, tzinfo=UTC)

    def words(kind: OutboxKind, user: str) -> str:
        delivery = render(OutboxMessage(id=7, kind=kind, channel=user, detail=example, created_at=at), reader)
        return json.dumps(delivery.args)

    assert "up to $40" in words(OutboxKind.NUDGE, "U0ANA")
    assert "up to $40" not in words(OutboxKind.NUDGE, "U0CHO")
    assert "up to $20" in words(OutboxKind.NUDGE, "U0CHO")
    assert "Waive a late fee: on your own up to *$40*" in words(OutboxKind.WELCOME, "U0ANA")
    assert "Waive a late fee: on your own up to *$20*" in words(OutboxKind.WELCOME, "U0CHO")
