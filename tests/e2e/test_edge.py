"""The edge, attacked from outside: answers lost on the way back from Slack, reply URLs that
aren't Slack's, malformed payloads that carry a good signature, and who may read the metrics."""

from __future__ import annotations

import time

from pydantic import SecretStr

from bot.outbox import transport
from bot.outbox.rendering import RESPOND, Delivery
from bot.runtime import slack_client
from bot.settings import Settings
from bot.standin import StandInSlack
from storage.models import OutboxMessage
from tests.e2e.support import Bot


def _settings(api: StandInSlack) -> Settings:
    return Settings(
        slack_bot_token=SecretStr("xoxb-edge"),
        slack_signing_secret=SecretStr("edge-signing-secret"),
        slack_api_url=api.url,
        _env_file=None,
    )  # type: ignore[call-arg]


def _settled(bot: Bot, kind: str, timeout: float = 10.0) -> OutboxMessage:
    """The message of `kind` once its first try is over: sent, or back in line with an error."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in bot.outbox() if m.kind == kind]
        if found and (found[0].status == "sent" or found[0].last_error is not None):
            return found[0]
        assert time.monotonic() < deadline, f"the {kind} was never tried: {found}"
        time.sleep(0.02)


# --- an answer lost on the way back -------------------------------------------------------------


def test_a_post_whose_answer_is_lost_is_posted_again_only_once_its_claim_lapses(bot: Bot) -> None:
    bot.api.drop_answer_next("chat.postMessage", channel="C0DEC")
    bot.driver.command("U0ANA", "refund 20 #1 x")
    owed = _settled(bot, "decision")
    assert len(bot.api.messages_in("C0DEC")) == 1  # Slack has it; Leeway never heard back
    assert owed.status == "pending" and "RemoteDisconnected" in (owed.last_error or "")
    bot.clock.advance(seconds=119)  # the claim would still hold: nothing is posted again
    bot.settle()
    assert len(bot.api.messages_in("C0DEC")) == 1
    bot.clock.advance(seconds=2)
    bot.settle()
    assert len(bot.api.messages_in("C0DEC")) == 2  # sent again once, as after a crash mid-claim
    (sent,) = [m for m in bot.outbox() if m.kind == "decision"]
    assert (sent.status, sent.attempts) == ("sent", 2)


def test_calls_that_post_or_change_are_never_repeated_inside_the_call(slack: StandInSlack) -> None:
    slack.reset()
    client = slack_client(_settings(slack))
    for method, args in (
        ("chat.postMessage", {"channel": "C0DEC", "text": "once"}),
        ("chat.update", {"channel": "C0DEC", "ts": "1.000001", "text": "changed"}),
        ("views.publish", {"user_id": "U0ANA", "view": {"type": "home", "blocks": []}}),
    ):
        slack.drop_answer_next(method)
        try:
            client.api_call(method, json=args)
        except ConnectionError:
            pass
        else:
            raise AssertionError(f"{method}: a lost answer must reach the outbox as an error")
        assert len(slack.calls_to(method)) == 1, method
    slack.reset()


def test_a_private_reply_whose_answer_is_lost_is_not_repeated_inside_the_call(slack: StandInSlack) -> None:
    slack.reset()
    client = slack_client(_settings(slack))
    url = slack.response_url("lost", channel="C0GENERAL", user="U0ANA")
    slack.drop_answer_next("response_url", key="lost")
    reply = Delivery(RESPOND, {"url": url, "text": "hi", "response_type": "ephemeral", "replace_original": False})
    try:
        transport.send(client, reply)
    except ConnectionError:
        pass
    else:
        raise AssertionError("a lost answer must reach the outbox as an error")
    assert len(slack.calls_to("response_url")) == 1
    slack.reset()


def test_reads_are_still_tried_again_when_the_connection_drops(slack: StandInSlack) -> None:
    slack.reset()
    client = slack_client(_settings(slack))
    slack.drop_answer_next("auth.test")
    assert client.auth_test()["ok"] is True
    assert len(slack.calls_to("auth.test")) == 2
    slack.reset()
