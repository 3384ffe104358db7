"""Makes the Slack call a `Delivery` describes, and reads what Slack answered or refused."""

from __future__ import annotations

import logging
from http.client import HTTPException
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookClient

from bot.outbox.rendering import RESPOND, UPLOAD, Delivery, Drop

log = logging.getLogger("leeway.outbox")

# Slack's own hosts, where its response_urls point (hooks.slack.com among them).
SLACK_HOSTS = ".slack.com"
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Calls that show a new message each time they land: sent twice, they are seen twice. (An upload
# whose answer was lost may have shared its file: its last step shows the file in the DM.)
REPEATS_SHOW = frozenset({"chat.postMessage", "chat.postEphemeral", RESPOND, UPLOAD})


def send(client: WebClient, delivery: Delivery) -> SlackResponse:
    if delivery.method == RESPOND:
        return _respond(client, delivery.args)
    if delivery.method == UPLOAD:
        return _upload(client, delivery.args)
    return client.api_call(delivery.method, json=delivery.args)


def _upload(client: WebClient, args: dict[str, Any]) -> SlackResponse:
    """A file to a person's DM, by Slack's external upload: files.getUploadURLExternal, the bytes
    to the URL it hands out, then files.completeUploadExternal shares it (slack_sdk's
    files_upload_v2 makes the three calls). Sharing takes a conversation ID, not a user's, so
    the DM is opened first (conversations.open answers the same DM every time). Nothing here is
    retried inside the call: a client without retry handlers for these (see runtime), and a
    lost answer is the outbox's to resend once the claim would have lapsed."""
    opened = client.conversations_open(users=str(args["user"]))
    channel = opened["channel"]["id"]
    return client.files_upload_v2(
        channel=channel,
        filename=str(args["filename"]),
        title=str(args["title"]),
        content=str(args["content"]),
        initial_comment=str(args["initial_comment"]),
    )


def _respond(client: WebClient, args: dict[str, Any]) -> SlackResponse:
    """Reply through an interaction's response_url: it works in channels Leeway isn't in."""
    url = str(args["url"])
    if not may_reply_to(url, api_url=client.base_url):
        # Slack's payloads only ever name its own hosts: whatever named this one is not Slack.
        log.warning("refused a response_url on %s, which is not Slack's", _where(url))
        raise Drop("its response_url is not Slack's")
    # No retry inside the call: like every post, a reply whose answer was lost is the outbox's to resend.
    result = WebhookClient(url, timeout=15, retry_handlers=[]).send_dict({k: v for k, v in args.items() if k != "url"})
    if result.status_code >= 400:
        raise RuntimeError(f"response_url answered {result.status_code}")
    return SlackResponse(
        client=client,
        http_verb="POST",
        api_url=url,
        req_args={},
        data={"ok": True},
        headers={},
        status_code=result.status_code,
    )


def may_reply_to(url: str, *, api_url: str) -> bool:
    """Whether a response_url from a payload may be posted to: Slack's own hosts over https, or
    the scheme, host and port of the configured Web API (the stand-in, in tests and the demo)."""
    if any(c <= " " or c == "\\" for c in url):  # parsers disagree about these; Slack never sends them
        return False
    try:
        where = _origin(url)
        if where is None:
            return False
        scheme, host, port = where
        return where == _origin(api_url) or ((scheme, port) == ("https", 443) and host.endswith(SLACK_HOSTS))
    except ValueError:  # an unreadable port
        return False


def _origin(url: str) -> tuple[str, str, int] | None:
    """Scheme, host and port (the scheme's own when none is written); None without a host, or
    with a user name in front of it."""
    parts = urlsplit(url)
    if "@" in parts.netloc or not parts.hostname:
        return None
    port = parts.port if parts.port is not None else _DEFAULT_PORTS.get(parts.scheme, 0)
    return parts.scheme, parts.hostname, port


def _where(url: str) -> str:
    """Enough of a refused URL to recognise it by, and no more (it may carry anything)."""
    try:
        origin = _origin(url)
    except ValueError:
        origin = None
    return "{}://{}:{}".format(*origin)[:120] if origin else "an unreadable host"


def may_have_landed(method: str, error: Exception) -> bool:
    """Whether a post that failed with `error` may be in Slack all the same, so that sending it
    again now could show it twice: the request went out, and the connection dropped or timed
    out before the answer came back. (urllib wraps what fails before the request is sent, such
    as a refused connection, in URLError.)"""
    if method not in REPEATS_SHOW or isinstance(error, URLError):
        return False
    return isinstance(error, OSError | HTTPException)


def posted_at(response: SlackResponse) -> tuple[str | None, str | None]:
    """Where the message landed: its channel and ts (when Slack says)."""
    data = response.data if isinstance(response.data, dict) else {}
    channel = data.get("channel") if isinstance(data.get("channel"), str) else None
    return channel, data.get("ts") or data.get("message_ts")


def refusal(error: SlackApiError) -> tuple[int, str, Any]:
    """The HTTP status, Slack's error code and the Retry-After header of a refused call."""
    status = getattr(error.response, "status_code", 200)
    code = str(error.response.get("error", "unknown_error"))
    headers = getattr(error.response, "headers", {}) or {}
    retry_after = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    return status, code, retry_after
