"""The stand-in Slack Web API, exercised through the real slack_sdk WebClient."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.standin import ApiCall, StandInSlack, default_spec_path

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO_ROOT / ".." / "shared" / "slack" / "web-api" / "slack_web_openapi_v2_without_examples.json"
TS_PATTERN = re.compile(r"^\d{10}\.\d{6}$")

SECTION = {"type": "section", "block_id": "intro", "text": {"type": "mrkdwn", "text": "*hello*"}}
MODAL = {
    "type": "modal",
    "callback_id": "remedy_modal",
    "title": {"type": "plain_text", "text": "Remedy"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "reason",
            "label": {"type": "plain_text", "text": "Reason"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


@pytest.fixture
def api() -> Iterator[StandInSlack]:
    with StandInSlack(spec_path=SPEC_PATH) as server:
        yield server


@pytest.fixture
def client(api: StandInSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=api.url)


def raw_request(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None, method: str = "POST"
) -> tuple[int, dict[str, Any], dict[str, str]]:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, json.loads(response.read()), dict(response.headers.items())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read()), dict(error.headers.items())


# ---------------------------------------------------------------- basics


def test_spec_is_found_from_the_repository() -> None:
    assert SPEC_PATH.is_file()
    found = default_spec_path()
    assert found is not None
    assert found == SPEC_PATH.resolve()


def test_url_is_a_web_api_base_url_with_trailing_slash(api: StandInSlack) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/", api.url)


def test_url_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        _ = StandInSlack().url


def test_auth_test(api: StandInSlack, client: WebClient) -> None:
    response = client.auth_test()
    assert response.status_code == 200
    assert response["ok"] is True
    assert response["user_id"] == "U0LEEWAY"
    assert response["bot_id"] == "B0LEEWAY"
    assert response["team_id"] == "T0LEEWAY"
    assert response["url"].startswith("https://")
    assert isinstance(response["team"], str)
    assert isinstance(response["user"], str)
    [call] = api.calls
    assert call.method == "auth.test"
    assert call.status == 200
    assert call.args == {}
    assert api.violations == []


def test_identity_is_configurable() -> None:
    with StandInSlack(bot_user_id="U0OTHER", bot_id="B0OTHER", team_id="T0OTHER") as other:
        response = WebClient(token="xoxb-test", base_url=other.url).auth_test()
    assert (response["user_id"], response["bot_id"], response["team_id"]) == ("U0OTHER", "B0OTHER", "T0OTHER")


def test_post_message_shape(api: StandInSlack, client: WebClient) -> None:
    response = client.chat_postMessage(channel="C0GENERAL", text="hello", blocks=[SECTION])
    assert response["ok"] is True
    assert response["channel"] == "C0GENERAL"
    assert TS_PATTERN.match(response["ts"])
    message = response["message"]
    assert message["type"] == "message"
    assert message["text"] == "hello"
    assert message["user"] == "U0LEEWAY"
    assert message["bot_id"] == "B0LEEWAY"
    assert message["ts"] == response["ts"]
    assert message["blocks"] == [SECTION]
    assert "thread_ts" not in message

    [call] = api.calls_to("chat.postMessage")
    assert call.args == {"channel": "C0GENERAL", "text": "hello", "blocks": [SECTION]}
    assert call.response["ts"] == response["ts"]
    assert api.violations == []
    assert api.warnings == []


def test_timestamps_are_unique_and_increasing(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(30)]
    assert all(TS_PATTERN.match(ts) for ts in stamps)
    assert len(set(stamps)) == len(stamps)
    assert [float(ts) for ts in stamps] == sorted(float(ts) for ts in stamps)
    assert stamps == sorted(stamps)


def test_post_to_a_user_goes_to_the_dm(api: StandInSlack, client: WebClient) -> None:
    response = client.chat_postMessage(channel="U0AGENT", text="psst")
    assert response["channel"] == "D0AGENT"
    stored = api.message("D0AGENT", response["ts"])
    assert stored is not None
    assert stored["text"] == "psst"
    assert api.message("U0AGENT", response["ts"]) == stored


def test_thread_replies_are_kept_in_post_order(api: StandInSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="parent")["ts"]
    reply = client.chat_postMessage(channel="C1", text="reply", thread_ts=parent)
    assert reply["message"]["thread_ts"] == parent
    client.chat_postMessage(channel="C2", text="elsewhere")
    messages = api.messages_in("C1")
    assert [m["text"] for m in messages] == ["parent", "reply"]
    assert "thread_ts" not in messages[0]
    assert messages[1]["thread_ts"] == parent
    assert api.messages_in("C404") == []


def test_post_message_without_content_is_no_text(api: StandInSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        client.api_call("chat.postMessage", json={"channel": "C1"})
    assert caught.value.response["error"] == "no_text"
    assert api.messages_in("C1") == []
    assert api.calls_to("chat.postMessage")[0].status == 200


def test_update_is_reflected_in_message(api: StandInSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C1", text="before", blocks=[SECTION])
    new_blocks = [{"type": "section", "block_id": "done", "text": {"type": "mrkdwn", "text": "done"}}]
    updated = client.chat_update(channel="C1", ts=posted["ts"], text="after", blocks=new_blocks)
    assert updated["ok"] is True
    assert updated["channel"] == "C1"
    assert updated["ts"] == posted["ts"]
    assert updated["text"] == "after"
    assert updated["message"]["blocks"] == new_blocks

    stored = api.message("C1", posted["ts"])
    assert stored is not None
    assert stored["text"] == "after"
    assert stored["blocks"] == new_blocks
    assert stored["ts"] == posted["ts"]
    assert stored["user"] == "U0LEEWAY"
    assert len(api.messages_in("C1")) == 1


def test_message_returns_a_copy(api: StandInSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="original")["ts"]
    copy_ = api.message("C1", ts)
    assert copy_ is not None
    copy_["text"] = "mutated"
    assert api.message("C1", ts) == {**copy_, "text": "original"}


def test_update_of_unknown_message_is_message_not_found(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        client.chat_update(channel="C1", ts="1700000000.000100", text="nope")
    assert caught.value.response["error"] == "message_not_found"


def test_delete_removes_the_message(api: StandInSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="bye")["ts"]
    assert client.chat_delete(channel="C1", ts=ts)["ok"] is True
    assert api.message("C1", ts) is None


def test_post_ephemeral(api: StandInSlack, client: WebClient) -> None:
    response = client.chat_postEphemeral(channel="C1", user="U0AGENT", text="only you", blocks=[SECTION])
    assert response["ok"] is True
    assert TS_PATTERN.match(response["message_ts"])
    client.chat_postEphemeral(channel="C1", user="U0OTHER", text="someone else")
    [mine] = api.ephemerals("U0AGENT")
    assert mine == {
        "channel": "C1",
        "user": "U0AGENT",
        "text": "only you",
        "blocks": [SECTION],
        "message_ts": response["message_ts"],
    }
    assert len(api.ephemerals()) == 2
    assert api.messages_in("C1") == []


def test_reactions_add(api: StandInSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="x")["ts"]
    assert client.reactions_add(channel="C1", timestamp=ts, name="white_check_mark")["ok"] is True
    assert api.calls_to("reactions.add", name="white_check_mark")[0].args["timestamp"] == ts
    assert api.violations == []


# ---------------------------------------------------------------- views


def test_views_open(api: StandInSlack, client: WebClient) -> None:
    response = client.views_open(trigger_id="13345224609.738474920.8088930838d88f008e0", view=MODAL)
    view = response["view"]
    assert view["id"].startswith("V")
    assert view["team_id"] == "T0LEEWAY"
    assert view["state"] == {"values": {}}
    assert view["hash"]
    assert view["private_metadata"] == ""
    assert view["callback_id"] == "remedy_modal"
    assert view["blocks"] == MODAL["blocks"]
    assert view["title"] == MODAL["title"]
    assert api.views_opened() == [view]
    assert api.violations == []


def test_views_open_needs_a_trigger(api: StandInSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        client.api_call("views.open", json={"view": MODAL})
    assert caught.value.response["error"] == "invalid_arguments"
    assert api.violations == ["views.open: missing required argument 'trigger_id'"]
    assert api.views_opened() == []


def test_views_push_and_update(api: StandInSlack, client: WebClient) -> None:
    first = client.views_open(trigger_id="1.2.a", view={**MODAL, "private_metadata": "case-7"})["view"]
    assert first["private_metadata"] == "case-7"
    pushed = client.views_push(trigger_id="1.2.b", view=MODAL)["view"]
    assert pushed["id"] != first["id"]
    assert pushed["previous_view_id"] == first["id"]

    changed = {**MODAL, "title": {"type": "plain_text", "text": "Changed"}}
    updated = client.views_update(view_id=first["id"], view=changed, hash=first["hash"])["view"]
    assert updated["id"] == first["id"]
    assert updated["hash"] != first["hash"]
    assert [v["title"]["text"] for v in api.views_opened()] == ["Changed", "Remedy"]

    with pytest.raises(SlackApiError) as stale:
        client.views_update(view_id=first["id"], view=changed, hash=first["hash"])
    assert stale.value.response["error"] == "hash_conflict"
    with pytest.raises(SlackApiError) as missing:
        client.views_update(view_id="V404", view=changed)
    assert missing.value.response["error"] == "not_found"


def test_views_publish(api: StandInSlack, client: WebClient) -> None:
    home = {"type": "home", "blocks": [SECTION]}
    response = client.views_publish(user_id="U0AGENT", view=home)
    assert response["view"]["type"] == "home"
    stored = api.home_view("U0AGENT")
    assert stored is not None
    assert stored["blocks"] == [SECTION]
    assert stored["id"] == response["view"]["id"]
    assert api.home_view("U0NOBODY") is None
    assert api.views_opened() == []


def test_view_must_be_an_object(api: StandInSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        client.api_call("views.open", json={"trigger_id": "1.2.3", "view": "not json"})
    assert caught.value.response["error"] == "invalid_arguments"
    assert any("'view'" in v for v in api.violations)


# ---------------------------------------------------------------- users and groups


def test_usergroups_users_list(api: StandInSlack, client: WebClient) -> None:
    api.set_usergroup("S0LEADS", ["U0LEAD1", "U0LEAD2"])
    response = client.usergroups_users_list(usergroup="S0LEADS")
    assert response["users"] == ["U0LEAD1", "U0LEAD2"]
    with pytest.raises(SlackApiError) as caught:
        client.usergroups_users_list(usergroup="S0NOPE")
    assert caught.value.response["error"] == "no_such_subteam"
    assert [c.args for c in api.calls_to("usergroups.users.list")] == [
        {"usergroup": "S0LEADS"},
        {"usergroup": "S0NOPE"},
    ]
    assert api.violations == []


def test_users_info(api: StandInSlack, client: WebClient) -> None:
    api.add_user("U0AGENT", name="ada", real_name="Ada Lovelace")
    user = client.users_info(user="U0AGENT")["user"]
    assert user["id"] == "U0AGENT"
    assert user["name"] == "ada"
    assert user["real_name"] == "Ada Lovelace"
    assert user["is_bot"] is False
    assert user["profile"]["display_name"] == "ada"
    assert user["profile"]["real_name"] == "Ada Lovelace"
    assert isinstance(user["tz"], str)
    bot = client.users_info(user="U0LEEWAY")["user"]
    assert bot["is_bot"] is True
    with pytest.raises(SlackApiError) as caught:
        client.users_info(user="U0GHOST")
    assert caught.value.response["error"] == "user_not_found"


def test_conversations_open(client: WebClient) -> None:
    assert client.conversations_open(users="U0AGENT")["channel"]["id"] == "D0AGENT"
    group = client.conversations_open(users=["U0A", "U0B"])["channel"]["id"]
    assert group.startswith("G")


# ---------------------------------------------------------------- spec checking


def test_unknown_method_is_a_violation(api: StandInSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        client.api_call("chat.postMesage", json={"channel": "C1", "text": "typo"})
    assert caught.value.response["error"] == "unknown_method"
    assert len(api.violations) == 1
    assert "chat.postMesage" in api.violations[0]
    [call] = api.calls
    assert call.method == "chat.postMesage"
    assert call.response == {"ok": False, "error": "unknown_method"}


def test_missing_required_argument_is_a_violation(api: StandInSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="x")["ts"]
    with pytest.raises(SlackApiError) as caught:
        client.api_call("reactions.add", json={"channel": "C1", "timestamp": ts})
    assert caught.value.response["error"] == "invalid_arguments"
    assert api.violations == ["reactions.add: missing required argument 'name'"]
    assert api.calls_to("reactions.add")[0].status == 200


def test_missing_channel_reads_well(api: StandInSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError):
        client.api_call("chat.postMessage", json={"text": "where to?"})
    assert api.violations == ["chat.postMessage: missing required argument 'channel'"]


def test_wrong_types_are_violations(api: StandInSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as boolean:
        client.api_call("chat.postMessage", json={"channel": "C1", "text": "x", "unfurl_links": "yes"})
    assert boolean.value.response["error"] == "invalid_arguments"
    with pytest.raises(SlackApiError):
        client.api_call("conversations.history", http_verb="GET", params={"channel": "C1", "limit": "ten"})
    assert len(api.violations) == 2
    assert "'unfurl_links' should be boolean" in api.violations[0]
    assert "'limit' should be integer" in api.violations[1]


def test_accepted_type_spellings(api: StandInSlack, client: WebClient) -> None:
    for flag in (True, False, "true", "false", "1", "0", 1, 0):
        client.api_call("chat.postMessage", json={"channel": "C1", "text": "x", "unfurl_links": flag})
    client.api_call("conversations.history", http_verb="GET", params={"channel": "C1", "limit": "20"})
    client.api_call("conversations.history", json={"channel": "C1", "limit": 20})
    assert api.violations == []


def test_unknown_extra_argument_is_only_a_warning(api: StandInSlack, client: WebClient) -> None:
    metadata = {"event_type": "remedy_proposed", "event_payload": {"id": 7}}
    response = client.chat_postMessage(channel="C1", text="x", metadata=metadata)
    assert response["ok"] is True
    assert api.violations == []
    assert api.warnings == ["chat.postMessage: unknown argument 'metadata'"]
    assert api.calls_to("chat.postMessage")[0].args["metadata"] == metadata
    # the same extra argument again does not repeat the warning
    client.chat_postMessage(channel="C1", text="y", metadata=metadata)
    assert len(api.warnings) == 1


def test_form_encoded_json_args_are_decoded(api: StandInSlack) -> None:
    body = urlencode({"channel": "C1", "text": "form", "blocks": json.dumps([SECTION]), "token": "xoxb-form"}).encode()
    status, answer, _ = raw_request(
        api.url + "chat.postMessage", body, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 200
    assert answer["ok"] is True
    [call] = api.calls
    assert call.args == {"channel": "C1", "text": "form", "blocks": [SECTION]}
    stored = api.message("C1", answer["ts"])
    assert stored is not None
    assert stored["blocks"] == [SECTION]


def test_newer_methods_are_allowed(api: StandInSlack, client: WebClient) -> None:
    assert client.api_call("apps.connections.open", json={"anything": 1})["ok"] is True
    assert api.violations == []
    assert api.warnings == []


def test_newer_methods_described_by_the_stand_in_are_checked(api: StandInSlack, client: WebClient) -> None:
    # The file upload's two methods are missing from Slack's spec: the stand-in describes them
    # (bot.standin.spec.DESCRIBED), so a call without their required arguments is a violation.
    for method in ("files.getUploadURLExternal", "files.completeUploadExternal"):
        with pytest.raises(SlackApiError) as refused:
            client.api_call(method, json={"anything": 1})
        assert refused.value.response["error"] == "invalid_arguments"
    assert api.violations == [
        "files.getUploadURLExternal: missing required argument 'filename'",
        "files.getUploadURLExternal: missing required argument 'length'",
        "files.completeUploadExternal: missing required argument 'files'",
    ]
    assert api.warnings == [
        "files.getUploadURLExternal: unknown argument 'anything'",
        "files.completeUploadExternal: unknown argument 'anything'",
    ]


def test_other_spec_methods_answer_ok(api: StandInSlack, client: WebClient) -> None:
    assert client.api_call("pins.add", json={"channel": "C1", "timestamp": "1.2"}).data == {"ok": True}
    assert api.calls[-1].method == "pins.add"


def test_without_a_spec_nothing_is_checked() -> None:
    with StandInSlack() as lax:
        client = WebClient(token="xoxb-test", base_url=lax.url)
        assert client.api_call("chat.postMesage", json={"x": 1})["ok"] is True
        assert lax.violations == []


def test_missing_token_is_not_authed_but_not_a_violation(api: StandInSlack) -> None:
    with pytest.raises(SlackApiError) as caught:
        WebClient(base_url=api.url).chat_postMessage(channel="C1", text="x")
    assert caught.value.response["error"] == "not_authed"
    status, answer, _ = raw_request(
        api.url + "auth.test", b"", {"Authorization": "Bearer nope", "Content-Type": "application/json"}
    )
    assert (status, answer) == (200, {"ok": False, "error": "not_authed"})
    assert api.violations == []
    assert [c.method for c in api.calls] == ["chat.postMessage", "auth.test"]
    assert api.messages_in("C1") == []


def test_unknown_route_is_404(api: StandInSlack) -> None:
    base = api.url.removesuffix("/api/")
    status, answer, _ = raw_request(base + "/apichat.postMessage", b"{}", {"Content-Type": "application/json"})
    assert status == 404
    assert answer["ok"] is False
    status, _, _ = raw_request(base + "/response/abc", method="GET")
    assert status == 404
    assert api.calls == []


# ---------------------------------------------------------------- faults


def test_fail_next(api: StandInSlack, client: WebClient) -> None:
    api.fail_next("chat.postMessage", "channel_not_found", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as caught:
            client.chat_postMessage(channel="C1", text="x")
        assert caught.value.response.status_code == 200
        assert caught.value.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C1", text="x")["ok"] is True
    assert [c.response.get("error") for c in api.calls_to("chat.postMessage")] == [
        "channel_not_found",
        "channel_not_found",
        None,
    ]
    assert len(api.messages_in("C1")) == 1


def test_faults_apply_in_order_to_matching_calls_only(api: StandInSlack, client: WebClient) -> None:
    api.fail_next("chat.postMessage", "first", channel="C2")
    api.fail_next("chat.postMessage", "second", channel="C2")
    assert client.chat_postMessage(channel="C1", text="unaffected")["ok"] is True
    assert client.auth_test()["ok"] is True
    errors: list[str | None] = []
    for _ in range(3):
        try:
            client.chat_postMessage(channel="C2", text="x")
            errors.append(None)
        except SlackApiError as error:
            errors.append(error.response["error"])
    assert errors == ["first", "second", None]


def test_rate_limit_without_retry_handler(api: StandInSlack, client: WebClient) -> None:
    api.rate_limit_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C1", text="x")
    response = caught.value.response
    assert response.status_code == 429
    assert response["error"] == "ratelimited"
    assert response.headers["Retry-After"] == "7"
    [call] = api.calls
    assert call.status == 429


def test_rate_limited_client_retries_and_succeeds(api: StandInSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=api.url, retry_handlers=[RateLimitErrorRetryHandler()])
    api.rate_limit_next("chat.postMessage", retry_after=1)
    response = client.chat_postMessage(channel="C1", text="eventually")
    assert response["ok"] is True
    calls = api.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at >= calls[0].at
    assert [m["text"] for m in api.messages_in("C1")] == ["eventually"]


# ---------------------------------------------------------------- waiting and resetting


def test_wait_for_sees_calls_from_other_threads(api: StandInSlack, client: WebClient) -> None:
    def later() -> None:
        time.sleep(0.1)
        client.chat_postMessage(channel="C1", text="one")
        client.chat_postMessage(channel="C1", text="two")

    worker = threading.Thread(target=later)
    worker.start()
    found = api.wait_for("chat.postMessage", count=2, timeout=5, channel="C1")
    worker.join()
    assert [c.args["text"] for c in found] == ["one", "two"]
    assert all(isinstance(c, ApiCall) for c in found)


def test_wait_for_timeout_dumps_recent_calls(api: StandInSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="wrong place")
    with pytest.raises(AssertionError) as caught:
        api.wait_for("chat.postMessage", timeout=0.2, channel="C2")
    text = str(caught.value)
    assert "chat.postMessage" in text
    assert "C2" in text
    assert "wrong place" in text


def test_calls_is_a_snapshot(api: StandInSlack, client: WebClient) -> None:
    client.auth_test()
    snapshot = api.calls
    snapshot.clear()
    assert len(api.calls) == 1


def test_reset(api: StandInSlack, client: WebClient) -> None:
    api.set_usergroup("S1", ["U1"])
    client.chat_postMessage(channel="C1", text="x", metadata={"event_type": "e", "event_payload": {}})
    client.chat_postEphemeral(channel="C1", user="U1", text="x")
    client.views_open(trigger_id="1.2.3", view=MODAL)
    with pytest.raises(SlackApiError):
        client.api_call("nope.nope")
    api.fail_next("auth.test", "invalid_auth")
    api.reset()
    assert api.calls == []
    assert api.violations == []
    assert api.warnings == []
    assert api.messages_in("C1") == []
    assert api.ephemerals() == []
    assert api.views_opened() == []
    assert client.auth_test()["ok"] is True  # the fault is gone
    assert client.usergroups_users_list(usergroup="S1")["users"] == ["U1"]  # configuration stays


# ---------------------------------------------------------------- response URLs


def test_response_url_posts_are_recorded(api: StandInSlack) -> None:
    url = api.response_url("cmd-1")
    assert url.startswith(api.url.removesuffix("api/"))
    response = WebhookClient(url).send(text="working on it", response_type="ephemeral")
    assert response.status_code == 200
    [call] = api.calls
    assert call.method == "response_url"
    assert call.args == {"key": "cmd-1", "text": "working on it", "response_type": "ephemeral"}
    assert api.wait_for("response_url", key="cmd-1") == [call]


def test_bound_response_url_acts_on_the_message(api: StandInSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="approve?", blocks=[SECTION])["ts"]
    url = api.response_url("click-1", channel="C1", message_ts=ts, user="U0LEAD")
    WebhookClient(url).send(text="approved", replace_original=True)
    stored = api.message("C1", ts)
    assert stored is not None
    assert stored["text"] == "approved"
    assert "blocks" not in stored

    WebhookClient(url).send(text="just for you")
    assert [e["text"] for e in api.ephemerals("U0LEAD")] == ["just for you"]
    WebhookClient(url).send(text="for everyone", response_type="in_channel")
    assert [m["text"] for m in api.messages_in("C1")] == ["approved", "for everyone"]
    WebhookClient(url).send(delete_original=True)
    assert api.message("C1", ts) is None


def test_a_held_call_stays_in_flight_until_released() -> None:
    with StandInSlack() as api:
        hold = api.hold_next("chat.postMessage", channel="C0SLOW")
        client = WebClient(token="xoxb-test", base_url=api.url)
        done: list[str] = []
        worker = threading.Thread(target=lambda: done.append(client.chat_postMessage(channel="C0SLOW", text="x")["ts"]))
        worker.start()
        assert hold.arrived.wait(10)
        client.chat_postMessage(channel="C0FAST", text="not held")  # others are not blocked
        assert api.calls_to("chat.postMessage", channel="C0SLOW") == []
        assert done == []
        hold.release()
        worker.join(10)
        assert len(done) == 1
        assert len(api.calls_to("chat.postMessage", channel="C0SLOW")) == 1


def test_a_held_answer_comes_back_only_when_released_though_the_call_is_done() -> None:
    with StandInSlack() as api:
        hold = api.hold_answer_next("chat.postMessage", channel="C0SLOW")
        client = WebClient(token="xoxb-test", base_url=api.url)
        done: list[str] = []
        worker = threading.Thread(target=lambda: done.append(client.chat_postMessage(channel="C0SLOW", text="x")["ts"]))
        worker.start()
        (call,) = api.wait_for("chat.postMessage", channel="C0SLOW")  # carried out: the message is there
        assert api.message("C0SLOW", call.response["ts"]) is not None
        assert hold.arrived.is_set()
        assert done == []
        client.chat_postMessage(channel="C0FAST", text="not held")
        hold.release()
        worker.join(10)
        assert done == [call.response["ts"]]
