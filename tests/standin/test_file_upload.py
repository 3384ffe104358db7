"""Slack's external file upload on the stand-in: the upload URL it hands out, the bytes posted
there, and the share that completes it, through the real slack_sdk WebClient."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.standin import StandInSlack

SPEC_PATH = Path(__file__).resolve().parents[2] / ".." / "shared" / "slack" / "web-api"
SPEC_PATH = SPEC_PATH / "slack_web_openapi_v2_without_examples.json"


@pytest.fixture
def api() -> Iterator[StandInSlack]:
    with StandInSlack(spec_path=SPEC_PATH) as server:
        yield server


@pytest.fixture
def client(api: StandInSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=api.url)


def post(url: str, data: bytes) -> int:
    request = urllib.request.Request(url, data=data, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_the_three_steps_share_the_file_and_keep_its_bytes(api: StandInSlack, client: WebClient) -> None:
    content = "id,case\r\n1,#4711\r\n"
    response = client.files_upload_v2(
        channel="D0LEE", filename="decisions.csv", title="Decisions", content=content, initial_comment="Here"
    )
    assert response["file"]["title"] == "Decisions"

    (got,) = api.calls_to("files.getUploadURLExternal")
    assert got.args["filename"] == "decisions.csv"
    assert got.args["length"] == str(len(content))
    assert got.response["upload_url"].startswith(api.url.removesuffix("/api/") + "/upload/v1/")
    (uploaded,) = api.calls_to("upload")
    assert uploaded.status == 200
    assert uploaded.args["length"] == len(content)
    (completed,) = api.calls_to("files.completeUploadExternal")
    assert json.loads(completed.args["files"])[0]["id"] == got.response["file_id"]

    (shared,) = api.files()
    assert shared["content"] == content.encode()
    assert shared["channel"] == "D0LEE"
    assert shared["initial_comment"] == "Here"
    assert shared["name"] == "decisions.csv"
    (message,) = api.messages_in("D0LEE")
    assert message["text"] == "Here"
    assert message["files"][0]["id"] == shared["id"]
    assert api.violations == []


def test_an_unknown_file_id_is_not_found(api: StandInSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as refused:
        client.files_completeUploadExternal(files=[{"id": "F0NOSUCH", "title": "x"}], channel_id="D0LEE")
    assert refused.value.response["error"] == "file_not_found"
    assert api.files() == []


def test_an_upload_never_made_cannot_be_completed(client: WebClient) -> None:
    ticket = client.files_getUploadURLExternal(filename="a.csv", length=10)
    with pytest.raises(SlackApiError) as refused:
        client.files_completeUploadExternal(files=[{"id": ticket["file_id"], "title": "a"}], channel_id="D0LEE")
    assert refused.value.response["error"] == "file_not_found"
    assert "nothing was uploaded" in refused.value.response["response_metadata"]["messages"][0]


def test_bytes_other_than_the_length_announced_fail_the_completion(client: WebClient) -> None:
    ticket = client.files_getUploadURLExternal(filename="a.csv", length=10)
    assert post(str(ticket["upload_url"]), b"only seven") == 200
    assert post(str(ticket["upload_url"]), b"short") == 200  # the last upload counts
    with pytest.raises(SlackApiError) as refused:
        client.files_completeUploadExternal(files=[{"id": ticket["file_id"], "title": "a"}], channel_id="D0LEE")
    assert refused.value.response["error"] == "file_update_failed"
    assert "5 bytes were uploaded" in refused.value.response["response_metadata"]["messages"][0]


def test_a_file_is_shared_once(api: StandInSlack, client: WebClient) -> None:
    ticket = client.files_getUploadURLExternal(filename="a.csv", length=3)
    assert post(str(ticket["upload_url"]), b"abc") == 200
    files = [{"id": ticket["file_id"], "title": "a"}]
    client.files_completeUploadExternal(files=files, channel_id="D0LEE")
    with pytest.raises(SlackApiError) as refused:
        client.files_completeUploadExternal(files=files, channel_id="D0LEE")
    assert refused.value.response["error"] == "file_not_found"
    assert post(str(ticket["upload_url"]), b"abc") == 404
    assert len(api.files()) == 1


def test_a_user_id_is_not_a_conversation_to_share_in(client: WebClient) -> None:
    ticket = client.files_getUploadURLExternal(filename="a.csv", length=3)
    post(str(ticket["upload_url"]), b"abc")
    with pytest.raises(SlackApiError) as refused:
        client.files_completeUploadExternal(files=[{"id": ticket["file_id"], "title": "a"}], channel_id="U0LEE")
    assert refused.value.response["error"] == "channel_not_found"


def test_a_length_of_zero_is_a_missing_argument(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as refused:
        client.files_getUploadURLExternal(filename="a.csv", length=0)
    assert refused.value.response["error"] == "missing_argument"


def test_the_methods_are_checked_against_their_description(api: StandInSlack) -> None:
    request = urllib.request.Request(
        f"{api.url}files.getUploadURLExternal",
        data=b"filename=a.csv",
        headers={"Authorization": "Bearer xoxb-test", "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=5) as response:
        body = json.loads(response.read())
    assert body == {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": ["[ERROR] missing required argument 'length'"]},
    }
    assert api.violations == ["files.getUploadURLExternal: missing required argument 'length'"]


def test_an_unknown_upload_url_is_not_found(api: StandInSlack) -> None:
    assert post(api.url.removesuffix("/api/") + "/upload/v1/nosuchkey", b"abc") == 404
