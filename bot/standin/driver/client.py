"""Signed POSTs to the bot's endpoint, with the headers Slack sends; the bot's :class:`Reply`."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urlencode

from bot.standin.driver.signing import sign

__all__ = ["TIMEOUT_SECONDS", "USER_AGENT", "Reply", "SignedClient"]

TIMEOUT_SECONDS = 10.0
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


@dataclass(frozen=True)
class Reply:
    """The bot's answer to one request.  Header names are lower-cased."""

    status: int
    body: str
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else {}


def _reply(status: int, raw: bytes, headers: Message | None) -> Reply:
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    return Reply(status=status, body=raw.decode("utf-8", "replace"), headers=lowered)


class SignedClient:
    """Posts to ``bot_url``, signed with ``signing_secret`` at the time ``clock`` tells."""

    def __init__(self, bot_url: str, signing_secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self.bot_url = bot_url
        self.signing_secret = signing_secret
        self.clock = clock
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Reply:
        """A raw signed POST.  Pass ``signature`` to forge one, ``timestamp`` to send a stale one."""
        ts = int(self.clock()) if timestamp is None else timestamp
        headers = {
            "Content-Type": content_type,
            "User-Agent": USER_AGENT,
            "Accept": "application/json,*/*",
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature if signature is not None else sign(self.signing_secret, ts, body),
        }
        headers.update(extra_headers or {})
        request = urllib.request.Request(self.bot_url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                return _reply(response.status, response.read(), response.headers)
        except urllib.error.HTTPError as error:
            with error:
                return _reply(error.code, error.read(), error.headers)

    def post_form(self, fields: dict[str, str], **kwargs: Any) -> Reply:
        return self.post(urlencode(fields).encode(), "application/x-www-form-urlencoded", **kwargs)

    def post_payload(self, payload: dict[str, Any], **kwargs: Any) -> Reply:
        """An interactivity request: form-encoded ``payload=<json>``."""
        return self.post_form({"payload": json.dumps(payload)}, **kwargs)

    def post_json(self, document: dict[str, Any], **kwargs: Any) -> Reply:
        return self.post(json.dumps(document).encode(), "application/json", **kwargs)
