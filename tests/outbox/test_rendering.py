"""Every kind has one renderer, and the kinds that need nothing but their row render from it alone."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import sessionmaker

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
