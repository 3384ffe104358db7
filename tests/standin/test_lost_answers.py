"""The stand-in's lost answer: the call takes effect, then the connection closes unanswered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.standin import StandInSlack


@pytest.fixture
def api() -> Iterator[StandInSlack]:
    with StandInSlack() as server:
        yield server


def test_drop_answer_next_posts_and_answers_nothing(api: StandInSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=api.url, retry_handlers=[])
    api.drop_answer_next("chat.postMessage", channel="C1")
    with pytest.raises(ConnectionError):
        client.chat_postMessage(channel="C1", text="landed")
    assert client.chat_postMessage(channel="C2", text="unaffected")["ok"] is True
    assert client.chat_postMessage(channel="C1", text="answered")["ok"] is True
    assert [m["text"] for m in api.messages_in("C1")] == ["landed", "answered"]
    assert [c.ok for c in api.calls_to("chat.postMessage")] == [True, True, True]
