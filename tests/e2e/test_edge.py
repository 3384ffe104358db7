"""The edge, attacked from outside: answers lost on the way back from Slack, reply URLs that
aren't Slack's, malformed payloads that carry a good signature, and who may read the metrics."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from bot import services
from bot.outbox import transport
from bot.outbox.rendering import RESPOND, Delivery
from bot.runtime import slack_client
from bot.settings import Settings
from bot.standin import StandInSlack
from bot.standin.driver import payloads
from bot.web import ServerThread
from storage.models import OutboxMessage
from tests.core.test_request_shape import changed
from tests.e2e.support import Bot
from tests.e2e.test_process import free_port, start_process, stop_all
from tests.support import wipe


def _settings(api: StandInSlack) -> Settings:
    return Settings(
        slack_bot_token=SecretStr("xoxb-edge"),
        slack_signing_secret=SecretStr("edge-signing-secret"),
        slack_api_url=api.url,
        _env_file=None,
    )  # type: ignore[call-arg]


def _outbox_once(bot: Bot, kind: str, ready: Callable[[OutboxMessage], bool], timeout: float = 10.0) -> OutboxMessage:
    """The message of `kind` once `ready` holds for it (the sender works on its own thread)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in bot.outbox() if m.kind == kind]
        if found and ready(found[0]):
            return found[0]
        assert time.monotonic() < deadline, f"the {kind} never got there: {found}"
        time.sleep(0.02)


# --- an answer lost on the way back -------------------------------------------------------------


def test_a_post_whose_answer_is_lost_is_posted_again_only_once_its_claim_lapses(bot: Bot) -> None:
    bot.api.drop_answer_next("chat.postMessage", channel="C0DEC")
    bot.driver.command("U0ANA", "refund 20 #1 x")
    owed = _outbox_once(bot, "decision", lambda m: m.status == "sent" or m.last_error is not None)
    assert len(bot.api.messages_in("C0DEC")) == 1  # Slack has it; Leeway never heard back
    assert owed.status == "pending"
    assert "RemoteDisconnected" in (owed.last_error or "")
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
        with pytest.raises(ConnectionError):  # for the outbox to handle
            client.api_call(method, json=args)
        assert len(slack.calls_to(method)) == 1, method
    slack.reset()


def test_a_private_reply_whose_answer_is_lost_is_not_repeated_inside_the_call(slack: StandInSlack) -> None:
    slack.reset()
    client = slack_client(_settings(slack))
    url = slack.response_url("lost", channel="C0GENERAL", user="U0ANA")
    slack.drop_answer_next("response_url", key="lost")
    reply = Delivery(RESPOND, {"url": url, "text": "hi", "response_type": "ephemeral", "replace_original": False})
    with pytest.raises(ConnectionError):  # for the outbox to handle
        transport.send(client, reply)
    assert len(slack.calls_to("response_url")) == 1
    slack.reset()


def test_reads_are_still_tried_again_when_the_connection_drops(slack: StandInSlack) -> None:
    slack.reset()
    client = slack_client(_settings(slack))
    slack.drop_answer_next("auth.test")
    assert client.auth_test()["ok"] is True
    assert len(slack.calls_to("auth.test")) == 2
    slack.reset()


# --- payloads as Slack sends them ----------------------------------------------------------------


def _app(bot: Bot) -> payloads.Installation:
    driver = bot.driver
    return payloads.Installation(
        team_id=driver.team_id,
        team_domain=driver.team_domain,
        api_app_id=driver.api_app_id,
        verification_token=driver.verification_token,
        bot_user_id=driver.bot_user_id,
    )


def _click(
    bot: Bot, *, response_url: str | None = None, value: str = "1", private: bool = False, channel: str = "C0REQ"
) -> dict[str, Any]:
    """Ben clicks Approve on a request; `private`: on one of Leeway's private messages, which is
    answered through the click's response_url."""
    app, ts = _app(bot), f"{time.time():.6f}"
    payload = payloads.block_actions(
        app,
        user=app.user("U0BEN", "ben"),
        channel=channel,
        message={"type": "message", "text": "", "ts": ts},
        message_ts=ts,
        action=payloads.button_action(
            action_id="approve", block_id="actions", value=value, text="Approve", action_ts=ts
        ),
        trigger_id=bot.driver.new_trigger_id(),
        response_url=response_url or bot.api.response_url("click", channel=channel, user="U0BEN"),
    )
    payload["container"]["is_ephemeral"] = private
    return payload


def _form(bot: Bot) -> dict[str, Any]:
    """A filled-in proposal form as Slack sends it on submission: well formed, it grants."""
    values = {
        block: {"input": {"type": "plain_text_input", "value": value}}
        for block, value in (("remedy_id", "refund"), ("amount", "9"), ("case_ref", "#1"), ("summary", "x"))
    }
    view = {"type": "modal", "callback_id": "propose_form", "blocks": [], "private_metadata": ""}
    app = _app(bot)
    submitted = payloads.submitted_view(app, view, view_id="V0EDGE", view_hash="1.a", state=values)
    return payloads.view_submission(
        app, user=app.user("U0ANA", "ana"), view=submitted, trigger_id=bot.driver.new_trigger_id()
    )


# --- reply URLs that aren't Slack's ---------------------------------------------------------------


class _Foreign(BaseHTTPRequestHandler):
    seen: list[str]

    def do_POST(self) -> None:
        self.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def foreign() -> Iterator[tuple[str, list[str]]]:
    """A host that is not Slack's, on 127.0.0.1 like the stand-in but on another port."""
    seen: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Foreign,), {"seen": seen}))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_reply_url_that_is_not_slacks_is_never_fetched(
    bot: Bot, foreign: tuple[str, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="leeway.outbox")
    base, seen = foreign
    # A click on a private message, for a request that doesn't exist: "That request no longer exists."
    foreign_url = f"{base}/actions/T0LEEWAY/1/secret"
    click = _click(bot, response_url=foreign_url, value="999", private=True, channel="C0GENERAL")
    assert bot.driver.post_payload(click).status == 200
    reply = _outbox_once(bot, "response", lambda m: m.status in ("sent", "failed"))
    assert seen == []
    assert reply.status == "failed"
    assert "dropped" in (reply.last_error or "")
    assert reply.attempts == 1  # never tried again
    assert f"refused a response_url on {base}, which is not Slack's" in caplog.text
    # The stand-in's own reply URLs (the configured SLACK_API_URL's host and port) still work.
    own_url = bot.api.response_url("ok", channel="C0GENERAL", user="U0BEN")
    click = _click(bot, response_url=own_url, value="999", private=True, channel="C0GENERAL")
    assert bot.driver.post_payload(click).status == 200
    assert "no longer exists" in bot.api.wait_for("response_url", key="ok")[0].args["text"]
    assert seen == []


# --- malformed payloads under a good signature -------------------------------------------------


MALFORMED: dict[str, Callable[[Bot], dict[str, Any] | str]] = {
    "a view without its type": lambda bot: changed(_form(bot), "view.type"),
    "a view that is not an object": lambda bot: changed(_form(bot), "view", "modal"),
    "values that are not objects": lambda bot: changed(_form(bot), "view.state.values", {"amount": "9"}),
    "private metadata that is not JSON": lambda bot: changed(_form(bot), "view.private_metadata", "{"),
    "a view Bolt misreads": lambda bot: changed(_form(bot), "view.type", "workflow_step"),  # Bolt's KeyError
    "no user": lambda bot: changed(_form(bot), "user"),
    "actions that are not a list": lambda bot: changed(_click(bot), "actions", "approve"),
    "an action that is not an object": lambda bot: changed(_click(bot), "actions", ["approve"]),
    "a click without its user": lambda bot: changed(_click(bot), "user"),
    "a user without an id": lambda bot: changed(_click(bot), "user", {"name": "ben"}),
    "a channel that is not an object": lambda bot: changed(_click(bot), "channel", "C0REQ"),
    "payload that is not JSON": lambda _bot: "{not json",
    "payload that is a list": lambda _bot: "[1, 2]",
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_a_malformed_signed_payload_gets_a_400_and_records_nothing(
    bot: Bot, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    payload = MALFORMED[kind](bot)
    encoded = payload if isinstance(payload, str) else json.dumps(payload)
    reply = bot.driver.post_form({"payload": encoded})
    assert reply.status == 400, (reply.status, reply.body)
    # One short line: it says nothing about Leeway's code, so no traceback.
    assert "refused a signed request that Slack would not send" in caplog.text
    assert [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []
    bot.settle()
    assert bot.proposals() == []
    assert bot.outbox() == []


@pytest.mark.parametrize(
    "fields",
    [
        {"command": "/remedy", "text": "refund 9 #1 x", "trigger_id": "1.2.3"},  # no user_id
        {"command": "/remedy", "text": "refund 9 #1 x", "user_id": "U0ANA", "trigger_id": ""},
    ],
)
def test_a_command_without_what_slack_always_sends_gets_a_400(bot: Bot, fields: dict[str, str]) -> None:
    assert bot.driver.post_form({"team_id": "T0LEEWAY", "channel_id": "C0GENERAL", **fields}).status == 400
    bot.settle()
    assert bot.proposals() == []
    assert bot.outbox() == []


def test_an_event_that_is_not_an_object_gets_a_400(bot: Bot) -> None:
    assert bot.driver.post_json({"type": "event_callback", "event": "reaction_added", "event_id": "Ev1"}).status == 400


def test_the_same_payloads_well_formed_are_served(bot: Bot) -> None:
    assert bot.driver.post_payload(_click(bot)).status == 200
    assert "no longer exists" in bot.api.wait_for("chat.postEphemeral", user="U0BEN")[0].args["text"]
    assert bot.driver.post_payload(_form(bot)).status == 200
    assert bot.only_proposal().status == "granted"


# --- who may read the metrics -------------------------------------------------------------------


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()


def test_metrics_are_not_served_on_the_main_port_without_a_token(bot: Bot) -> None:
    assert _get(f"{bot.server.url}/metrics")[0] == 404
    assert _get(f"{bot.server.url}/metrics", {"Authorization": "Bearer anything"})[0] == 404


def test_metrics_on_the_main_port_need_the_token(bot: Bot) -> None:
    token = "a-token-only-prometheus-knows"
    bot.leeway.settings = bot.leeway.settings.model_copy(update={"metrics_token": SecretStr(token)})
    server = ServerThread(bot.leeway.asgi()).start()
    try:
        url = f"{server.url}/metrics"
        assert _get(url)[0] == 401
        assert _get(url, {"Authorization": "Bearer not-the-token"})[0] == 401
        assert _get(url, {"Authorization": f"Basic {token}"})[0] == 401
        assert _get(url, {"Authorization": f"Bearer {token}x"})[0] == 401
        status, text = _get(url, {"Authorization": f"Bearer {token}"})
        assert status == 200
        assert "leeway_outbox_backlog " in text
        assert _get(f"{server.url}/healthz")[0] == 200  # the rest of the port is as it was
    finally:
        server.stop()


def test_python_m_bot_run_serves_metrics_on_their_own_port_and_stops_them_with_it(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    slack.reset()
    wipe(engine)
    metrics_port = free_port()
    process, driver, base = start_process(slack, database_url, tmp_path, METRICS_PORT=str(metrics_port))
    try:
        assert "Granted" in driver.command("U0ANA", "refund 20 #1 x").json["text"]
        status, text = _get(f"http://127.0.0.1:{metrics_port}/metrics")
        assert status == 200
        assert 'leeway_proposals_total{outcome="granted",tier="alone"} 1.0' in text
        assert _get(f"{base}/metrics")[0] == 404  # not on the port Slack reaches
    finally:
        stop_all(process)
        wipe(engine)
        slack.reset()
    assert process.returncode == 0
    with pytest.raises(OSError, match=r"refused|reset|closed"):  # stopped with it
        _get(f"http://127.0.0.1:{metrics_port}/metrics")


def test_the_error_reply_goes_only_to_slacks_own_reply_urls(
    bot: Bot, foreign: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "agree", broken)
    base, seen = foreign
    click = _click(bot, response_url=f"{base}/actions/T0LEEWAY/1/secret", channel="C0GENERAL")
    assert bot.driver.post_payload(click).status == 200
    own_url = bot.api.response_url("oops", channel="C0GENERAL", user="U0BEN")
    assert bot.driver.post_payload(_click(bot, response_url=own_url, channel="C0GENERAL")).status == 200
    assert "Something went wrong on Leeway's side" in bot.api.wait_for("response_url", key="oops")[0].args["text"]
    assert seen == []
