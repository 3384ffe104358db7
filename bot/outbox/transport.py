"""Makes the Slack call a `Delivery` describes, and reads what Slack answered or refused."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookClient

from bot.outbox.rendering import RESPOND, Delivery


def send(client: WebClient, delivery: Delivery) -> SlackResponse:
    if delivery.method == RESPOND:
        return _respond(client, delivery.args)
    return client.api_call(delivery.method, json=delivery.args)


def _respond(client: WebClient, args: dict[str, Any]) -> SlackResponse:
    """Reply through an interaction's response_url: it works in channels Leeway isn't in."""
    url = str(args["url"])
    result = WebhookClient(url, timeout=15).send_dict({k: v for k, v in args.items() if k != "url"})
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
