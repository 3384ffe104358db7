"""The Slack driver: requests shaped and signed the way Slack sends them.

A tiny stdlib HTTP server records what the driver sends; one test runs a real Bolt app behind it to
check that Bolt accepts every kind of request end to end.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jsonschema
import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.standin import Reply, SlackDriver, StandInSlack

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT / ".." / "shared" / "slack"
SPEC_PATH = SHARED / "web-api" / "slack_web_openapi_v2_without_examples.json"
EVENT_SCHEMA_PATH = SHARED / "events-api" / "slack_common_event_wrapper_schema.json"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TS_PATTERN = re.compile(r"^\d{10}\.\d{6}$")

COMMAND_FIELDS = {
    "token",
    "team_id",
    "team_domain",
    "channel_id",
    "channel_name",
    "user_id",
    "user_name",
    "command",
    "text",
    "api_app_id",
    "is_enterprise_install",
    "response_url",
    "trigger_id",
}


# ---------------------------------------------------------------- a recording "bot"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    def payload(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.form()["payload"])
        return decoded

    def json(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded


@dataclass
class Recorder:
    """Answers every POST with ``status``/``reply`` and remembers what it got."""

    received: list[Received] = field(default_factory=list)
    status: int = 200
    reply: bytes = b""
    url: str = ""

    @property
    def last(self) -> Received:
        return self.received[-1]


def serve(
    handle: Callable[[BaseHTTPRequestHandler, bytes], tuple[int, bytes, dict[str, str]]],
) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, reply, headers = handle(self, body)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()

    def handle(request: BaseHTTPRequestHandler, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        headers = {k.lower(): v for k, v in request.headers.items()}
        rec.received.append(Received(request.path, headers, body))
        return rec.status, rec.reply, {"Content-Type": "application/json", "X-Bot-Says": "hi"}

    for url in serve(handle):
        rec.url = url
        yield rec


@pytest.fixture
def api() -> Iterator[StandInSlack]:
    with StandInSlack(spec_path=SPEC_PATH) as server:
        yield server


@pytest.fixture
def driver(recorder: Recorder, api: StandInSlack) -> SlackDriver:
    return SlackDriver(recorder.url, SECRET, api=api)


@pytest.fixture
def client(api: StandInSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=api.url)


def verified(received: Received, verifier: SignatureVerifier | None = None) -> bool:
    return (verifier or SignatureVerifier(SECRET)).is_valid_request(received.body, received.headers)


def event_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(EVENT_SCHEMA_PATH.read_text())
    schema["required"] = [name for name in schema["required"] if name != "authed_users"]
    return schema


# ---------------------------------------------------------------- signing and transport


def test_command_is_a_signed_form(driver: SlackDriver, recorder: Recorder, api: StandInSlack) -> None:
    api.add_user("U0AGENT", name="ada")
    reply = driver.command("U0AGENT", "refund 20 for order 123", channel="C0SUPPORT")
    assert reply.status == 200
    received = recorder.last
    assert received.path == "/slack/events"
    assert received.headers["content-type"] == "application/x-www-form-urlencoded"
    assert verified(received)
    assert received.headers["x-slack-signature"].startswith("v0=")
    assert abs(int(received.headers["x-slack-request-timestamp"]) - time.time()) < 60

    form = received.form()
    assert set(form) == COMMAND_FIELDS
    assert form["command"] == "/remedy"
    assert form["text"] == "refund 20 for order 123"
    assert form["user_id"] == "U0AGENT"
    assert form["user_name"] == "ada"
    assert form["channel_id"] == "C0SUPPORT"
    assert form["team_id"] == "T0LEEWAY"
    assert form["api_app_id"] == "A0LEEWAY"
    assert form["is_enterprise_install"] == "false"
    assert re.fullmatch(r"\d+\.\d+\.[0-9a-f]+", form["trigger_id"])
    assert form["response_url"].startswith(api.url.removesuffix("api/"))


def test_command_options(driver: SlackDriver, recorder: Recorder) -> None:
    driver.command("U0AGENT", command="/leeway", channel="D0AGENT", user_name="someone", trigger_id="1.2.3")
    form = recorder.last.form()
    assert (form["command"], form["channel_id"], form["user_name"], form["trigger_id"]) == (
        "/leeway",
        "D0AGENT",
        "someone",
        "1.2.3",
    )
    assert form["text"] == ""


def test_trigger_ids_are_unique(driver: SlackDriver, recorder: Recorder) -> None:
    for _ in range(5):
        driver.command("U0AGENT", "x")
    triggers = {r.form()["trigger_id"] for r in recorder.received}
    assert len(triggers) == 5


def test_command_response_url_is_recorded_by_the_api(
    driver: SlackDriver, recorder: Recorder, api: StandInSlack
) -> None:
    driver.command("U0AGENT", "x", channel="C0SUPPORT")
    url = recorder.last.form()["response_url"]
    WebhookClient(url).send(text="on it")
    [call] = api.calls_to("response_url")
    assert call.args["text"] == "on it"
    assert [e["text"] for e in api.ephemerals("U0AGENT")] == ["on it"]
    assert api.ephemerals("U0AGENT")[0]["channel"] == "C0SUPPORT"


def test_stale_and_forged_requests_do_not_verify(driver: SlackDriver, recorder: Recorder) -> None:
    driver.post(b"text=hi", "application/x-www-form-urlencoded", timestamp=int(time.time()) - 3600)
    assert not verified(recorder.last)
    driver.post(b"text=hi", "application/x-www-form-urlencoded", signature="v0=" + "0" * 64)
    assert not verified(recorder.last)
    driver.post(b"text=hi", "application/x-www-form-urlencoded")
    assert verified(recorder.last)
    wrong_secret = SlackDriver(recorder.url, "another-secret")
    wrong_secret.post(b"text=hi", "application/x-www-form-urlencoded")
    assert not verified(recorder.last)


def test_clock_sets_the_timestamp(recorder: Recorder) -> None:
    fixed = SlackDriver(recorder.url, SECRET, clock=lambda: 1_700_000_000.25)
    fixed.command("U0AGENT", "x")
    assert recorder.last.headers["x-slack-request-timestamp"] == "1700000000"

    class Then:
        def now(self) -> float:
            return 1_700_000_010.0

    assert verified(recorder.last, SignatureVerifier(SECRET, clock=Then()))  # type: ignore[arg-type]


def test_extra_headers(driver: SlackDriver, recorder: Recorder) -> None:
    driver.post(b"{}", "application/json", extra_headers={"X-Custom": "yes"})
    assert recorder.last.headers["x-custom"] == "yes"
    assert verified(recorder.last)


def test_error_statuses_are_returned_not_raised(driver: SlackDriver, recorder: Recorder) -> None:
    recorder.status = 401
    recorder.reply = b"invalid request"
    reply = driver.command("U0AGENT", "x")
    assert isinstance(reply, Reply)
    assert (reply.status, reply.body) == (401, "invalid request")
    assert reply.headers["x-bot-says"] == "hi"
    recorder.status = 500
    recorder.reply = b'{"error": "boom"}'
    reply = driver.command("U0AGENT", "x")
    assert reply.status == 500
    assert reply.json == {"error": "boom"}


def test_reply_json(driver: SlackDriver, recorder: Recorder) -> None:
    assert driver.command("U0AGENT").json == {}
    recorder.reply = b'{"response_type": "ephemeral", "text": "ok"}'
    assert driver.command("U0AGENT").json == {"response_type": "ephemeral", "text": "ok"}
    assert Reply(200, "  ", {}).json == {}


# ---------------------------------------------------------------- interactivity


def test_click_payload(driver: SlackDriver, recorder: Recorder, api: StandInSlack) -> None:
    message = {"type": "message", "ts": "1700000000.000100", "text": "approve?", "user": "U0LEEWAY"}
    driver.click("U0LEAD", action_id="approve", value="proposal-7", channel="C0SUPPORT", message=message)
    received = recorder.last
    assert verified(received)
    assert received.headers["content-type"] == "application/x-www-form-urlencoded"
    assert set(received.form()) == {"payload"}
    payload = received.payload()
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U0LEAD"
    assert set(payload["user"]) == {"id", "username", "name", "team_id"}
    assert payload["api_app_id"] == "A0LEEWAY"
    assert isinstance(payload["token"], str)
    assert payload["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "C0SUPPORT",
        "is_ephemeral": False,
    }
    assert payload["team"] == {"id": "T0LEEWAY", "domain": payload["team"]["domain"]}
    assert payload["enterprise"] is None
    assert payload["is_enterprise_install"] is False
    assert payload["channel"]["id"] == "C0SUPPORT"
    assert payload["message"] == message
    assert payload["state"] == {"values": {}}
    assert payload["response_url"].startswith(api.url.removesuffix("api/"))
    assert re.fullmatch(r"\d+\.\d+\.[0-9a-f]+", payload["trigger_id"])
    [action] = payload["actions"]
    assert action["action_id"] == "approve"
    assert action["block_id"] == "actions"
    assert action["value"] == "proposal-7"
    assert action["type"] == "button"
    assert TS_PATTERN.match(action["action_ts"])
    assert action["text"]["type"] == "plain_text"


def test_click_without_message_sends_a_minimal_one(driver: SlackDriver, recorder: Recorder) -> None:
    driver.click("U0LEAD", action_id="decline", value="p-1", channel="C1", block_id="b1", trigger_id="9.9.9")
    payload = recorder.last.payload()
    assert payload["message"]["type"] == "message"
    assert TS_PATTERN.match(payload["message"]["ts"])
    assert payload["container"]["message_ts"] == payload["message"]["ts"]
    assert payload["trigger_id"] == "9.9.9"
    assert payload["actions"][0]["block_id"] == "b1"


def test_click_button_uses_the_posted_message(
    driver: SlackDriver, recorder: Recorder, api: StandInSlack, client: WebClient
) -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Refund $20?"}},
        {
            "type": "actions",
            "block_id": "decide",
            "elements": [
                {
                    "type": "button",
                    "action_id": "approve",
                    "value": "p-42",
                    "text": {"type": "plain_text", "text": "Approve"},
                },
                {
                    "type": "button",
                    "action_id": "decline",
                    "value": "p-42",
                    "text": {"type": "plain_text", "text": "Decline"},
                },
            ],
        },
    ]
    ts = client.chat_postMessage(channel="C0LEADS", text="Refund $20?", blocks=blocks)["ts"]
    driver.click_button("U0LEAD", channel="C0LEADS", ts=ts, action_id="decline")
    payload = recorder.last.payload()
    [action] = payload["actions"]
    assert (action["action_id"], action["value"], action["block_id"]) == ("decline", "p-42", "decide")
    assert action["text"]["text"] == "Decline"
    assert payload["message"] == api.message("C0LEADS", ts)
    assert payload["container"]["message_ts"] == ts

    with pytest.raises(AssertionError) as caught:
        driver.click_button("U0LEAD", channel="C0LEADS", ts=ts, action_id="escalate")
    assert "approve" in str(caught.value)
    assert "decline" in str(caught.value)
    with pytest.raises(AssertionError):
        driver.click_button("U0LEAD", channel="C0LEADS", ts="1700000000.000001", action_id="approve")


def test_click_response_url_replaces_the_message(
    driver: SlackDriver, recorder: Recorder, api: StandInSlack, client: WebClient
) -> None:
    blocks = [
        {
            "type": "actions",
            "block_id": "decide",
            "elements": [
                {
                    "type": "button",
                    "action_id": "approve",
                    "value": "p-1",
                    "text": {"type": "plain_text", "text": "OK"},
                }
            ],
        }
    ]
    ts = client.chat_postMessage(channel="C1", text="decide", blocks=blocks)["ts"]
    driver.click_button("U0LEAD", channel="C1", ts=ts, action_id="approve")
    WebhookClient(recorder.last.payload()["response_url"]).send(text="Approved by <@U0LEAD>", replace_original=True)
    stored = api.message("C1", ts)
    assert stored is not None
    assert stored["text"] == "Approved by <@U0LEAD>"


MODAL_BLOCKS: list[dict[str, Any]] = [
    {
        "type": "input",
        "block_id": "reason",
        "label": {"type": "plain_text", "text": "Reason"},
        "element": {"type": "plain_text_input", "action_id": "value"},
    },
    {
        "type": "input",
        "block_id": "severity",
        "label": {"type": "plain_text", "text": "Severity"},
        "element": {
            "type": "static_select",
            "action_id": "choice",
            "options": [
                {"text": {"type": "plain_text", "text": "Low"}, "value": "low"},
                {"text": {"type": "plain_text", "text": "High"}, "value": "high"},
            ],
        },
    },
    {
        "type": "input",
        "block_id": "approver",
        "label": {"type": "plain_text", "text": "Approver"},
        "element": {"type": "users_select", "action_id": "user"},
    },
    {
        "type": "input",
        "block_id": "amount",
        "label": {"type": "plain_text", "text": "Amount"},
        "element": {"type": "number_input", "action_id": "value", "is_decimal_allowed": True},
    },
    {
        "type": "input",
        "block_id": "notes",
        "optional": True,
        "label": {"type": "plain_text", "text": "Notes"},
        "element": {"type": "plain_text_input", "action_id": "value"},
    },
    {
        "type": "input",
        "block_id": "where",
        "optional": True,
        "label": {"type": "plain_text", "text": "Where"},
        "element": {"type": "conversations_select", "action_id": "conv"},
    },
    {"type": "section", "text": {"type": "mrkdwn", "text": "Thanks!"}},
]


def test_submit_view_builds_slack_state(
    driver: SlackDriver, recorder: Recorder, api: StandInSlack, client: WebClient
) -> None:
    modal = {
        "type": "modal",
        "callback_id": "remedy_modal",
        "private_metadata": '{"case": 7}',
        "title": {"type": "plain_text", "text": "Remedy"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": MODAL_BLOCKS,
    }
    client.views_open(trigger_id="1.2.3", view=modal)
    [opened] = api.views_opened()
    driver.submit_view(
        "U0AGENT",
        opened,
        {
            "reason": {"value": "late delivery"},
            "severity": {"choice": "high"},
            "approver": {"user": "U0LEAD"},
            "amount": {"value": 20},
            "where": {"conv": "C0SUPPORT"},
        },
    )
    received = recorder.last
    assert verified(received)
    payload = received.payload()
    assert payload["type"] == "view_submission"
    assert payload["user"]["id"] == "U0AGENT"
    assert payload["team"]["id"] == "T0LEEWAY"
    assert payload["api_app_id"] == "A0LEEWAY"
    assert payload["response_urls"] == []
    assert payload["is_enterprise_install"] is False
    assert payload["enterprise"] is None
    assert isinstance(payload["trigger_id"], str)
    view = payload["view"]
    assert view["id"] == opened["id"]
    assert view["hash"] == opened["hash"]
    assert view["callback_id"] == "remedy_modal"
    assert view["private_metadata"] == '{"case": 7}'
    assert view["blocks"] == MODAL_BLOCKS
    assert view["state"]["values"] == {
        "reason": {"value": {"type": "plain_text_input", "value": "late delivery"}},
        "severity": {
            "choice": {
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": "High"}, "value": "high"},
            }
        },
        "approver": {"user": {"type": "users_select", "selected_user": "U0LEAD"}},
        "amount": {"value": {"type": "number_input", "value": "20"}},
        "notes": {"value": {"type": "plain_text_input", "value": None}},
        "where": {"conv": {"type": "conversations_select", "selected_conversation": "C0SUPPORT"}},
    }


def test_submit_view_leaves_untouched_inputs_empty(driver: SlackDriver, recorder: Recorder) -> None:
    view = {"type": "modal", "callback_id": "remedy_modal", "blocks": MODAL_BLOCKS}
    driver.submit_view("U0AGENT", view, {})
    values = recorder.last.payload()["view"]["state"]["values"]
    assert values["reason"]["value"] == {"type": "plain_text_input", "value": None}
    assert values["severity"]["choice"] == {"type": "static_select", "selected_option": None}
    assert values["approver"]["user"] == {"type": "users_select", "selected_user": None}
    assert values["amount"]["value"] == {"type": "number_input", "value": None}
    view_sent = recorder.last.payload()["view"]
    assert view_sent["id"].startswith("V")
    assert view_sent["private_metadata"] == ""


def test_submit_view_rejects_values_the_view_cannot_hold(driver: SlackDriver, recorder: Recorder) -> None:
    view = {"type": "modal", "callback_id": "remedy_modal", "blocks": MODAL_BLOCKS}
    with pytest.raises(AssertionError, match="low"):
        driver.submit_view("U0AGENT", view, {"severity": {"choice": "medium"}})
    with pytest.raises(AssertionError, match="nonexistent"):
        driver.submit_view("U0AGENT", view, {"nonexistent": {"value": "x"}})
    assert recorder.received == []


# ---------------------------------------------------------------- events


def test_event_wrapper_validates(driver: SlackDriver, recorder: Recorder) -> None:
    event = {"type": "app_mention", "user": "U0AGENT", "text": "<@U0LEEWAY> help", "channel": "C1"}
    driver.event(event)
    received = recorder.last
    assert verified(received)
    assert received.headers["content-type"] == "application/json"
    body = received.json()
    jsonschema.validate(body, event_schema())
    assert body["type"] == "event_callback"
    assert body["team_id"] == "T0LEEWAY"
    assert body["api_app_id"] == "A0LEEWAY"
    assert body["event_id"].startswith("Ev")
    assert isinstance(body["event_time"], int)
    assert body["event"]["text"] == "<@U0LEEWAY> help"
    assert TS_PATTERN.match(body["event"]["event_ts"])
    assert body["authorizations"] == [
        {
            "enterprise_id": None,
            "team_id": "T0LEEWAY",
            "user_id": "U0LEEWAY",
            "is_bot": True,
            "is_enterprise_install": False,
        }
    ]
    assert body["is_ext_shared_channel"] is False
    assert isinstance(body["event_context"], str)
    assert "x-slack-retry-num" not in received.headers
    assert event == {"type": "app_mention", "user": "U0AGENT", "text": "<@U0LEEWAY> help", "channel": "C1"}


def test_event_ids_and_retries(driver: SlackDriver, recorder: Recorder) -> None:
    driver.event({"type": "app_home_opened", "user": "U0AGENT", "tab": "home"})
    driver.event({"type": "app_home_opened", "user": "U0AGENT", "tab": "home"})
    first, second = (r.json()["event_id"] for r in recorder.received)
    assert first != second
    driver.event(
        {"type": "app_home_opened", "user": "U0AGENT", "event_ts": "1700000000.000200"},
        event_id=first,
        retry_num=1,
        retry_reason="http_timeout",
    )
    retried = recorder.last
    assert retried.json()["event_id"] == first
    assert retried.json()["event"]["event_ts"] == "1700000000.000200"
    assert retried.headers["x-slack-retry-num"] == "1"
    assert retried.headers["x-slack-retry-reason"] == "http_timeout"
    assert verified(retried)


def test_bot_user_id_in_authorizations_is_configurable(recorder: Recorder) -> None:
    SlackDriver(recorder.url, SECRET, bot_user_id="U0OTHER").event({"type": "app_mention", "text": "hi"})
    assert recorder.last.json()["authorizations"][0]["user_id"] == "U0OTHER"


def test_react(driver: SlackDriver, recorder: Recorder) -> None:
    driver.react("U0LEAD", "white_check_mark", channel="C1", ts="1700000000.000100", event_id="Ev0REACT1")
    body = recorder.last.json()
    jsonschema.validate(body, event_schema())
    assert body["event_id"] == "Ev0REACT1"
    event = body["event"]
    assert event["type"] == "reaction_added"
    assert event["user"] == "U0LEAD"
    assert event["reaction"] == "white_check_mark"
    assert event["item_user"] == "U0LEEWAY"
    assert event["item"] == {"type": "message", "channel": "C1", "ts": "1700000000.000100"}
    assert TS_PATTERN.match(event["event_ts"])
    driver.react("U0LEAD", "x", channel="C1", ts="1700000000.000100", event_id="Ev0REACT1", retry_num=2)
    assert recorder.last.headers["x-slack-retry-num"] == "2"


# ---------------------------------------------------------------- a real Bolt app behind the driver


@pytest.fixture
def bolt_url(api: StandInSlack) -> Iterator[str]:
    app = App(signing_secret=SECRET, client=WebClient(token="xoxb-test", base_url=api.url))

    @app.command("/remedy")
    def on_command(ack: Any, command: dict[str, Any], respond: Any, client: WebClient) -> None:
        ack()
        respond(f"working on: {command['text']}")
        client.chat_postMessage(
            channel="C0LEADS",
            text="approve?",
            blocks=[
                {
                    "type": "actions",
                    "block_id": "decide",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "approve",
                            "value": command["text"],
                            "text": {"type": "plain_text", "text": "Approve"},
                        }
                    ],
                }
            ],
        )

    @app.action("approve")
    def on_approve(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.chat_update(
            channel=body["container"]["channel_id"],
            ts=body["container"]["message_ts"],
            text=f"approved {body['actions'][0]['value']} by {body['user']['id']}",
            blocks=[],
        )

    @app.view("remedy_modal")
    def on_submit(ack: Any, view: dict[str, Any], client: WebClient) -> None:
        ack()
        reason = view["state"]["values"]["reason"]["value"]["value"]
        client.chat_postMessage(channel="C0LOG", text=f"reason: {reason}")

    @app.event("reaction_added")
    def on_reaction(event: dict[str, Any], client: WebClient) -> None:
        client.chat_postMessage(channel="C0LOG", text=f"reaction: {event['reaction']}")

    def handle(request: BaseHTTPRequestHandler, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        headers = {k.lower(): v for k, v in request.headers.items()}
        response = app.dispatch(BoltRequest(body=body.decode(), headers=dict(headers)))
        out = {k: v[0] for k, v in response.headers.items() if v}
        return response.status, response.body.encode(), out

    yield from serve(handle)


def test_a_bolt_app_accepts_everything_the_driver_sends(bolt_url: str, api: StandInSlack) -> None:
    driver = SlackDriver(bolt_url, SECRET, api=api)
    assert driver.command("U0AGENT", "refund 20").status == 200
    [posted] = api.wait_for("chat.postMessage", channel="C0LEADS")
    api.wait_for("response_url")
    assert [e["text"] for e in api.ephemerals("U0AGENT")] == ["working on: refund 20"]

    ts = posted.response["ts"]
    assert driver.click_button("U0LEAD", channel="C0LEADS", ts=ts, action_id="approve").status == 200
    api.wait_for("chat.update")
    stored = api.message("C0LEADS", ts)
    assert stored is not None
    assert stored["text"] == "approved refund 20 by U0LEAD"

    view = {"type": "modal", "callback_id": "remedy_modal", "blocks": MODAL_BLOCKS}
    assert driver.submit_view("U0AGENT", view, {"reason": {"value": "broken"}}).status == 200
    driver.react("U0LEAD", "tada", channel="C0LEADS", ts=ts)
    api.wait_for("chat.postMessage", count=2, channel="C0LOG")
    assert sorted(m["text"] for m in api.messages_in("C0LOG")) == ["reaction: tada", "reason: broken"]

    forged = driver.post(b"payload=%7B%7D", "application/x-www-form-urlencoded", signature="v0=" + "0" * 64)
    assert forged.status == 401
    assert api.violations == []
