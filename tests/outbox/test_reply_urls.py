"""Where a private reply may go: only Slack's own hosts, and the configured Web API's."""

from __future__ import annotations

import pytest

from bot.outbox.transport import may_reply_to

SLACK = "https://slack.com/api/"
STANDIN = "http://127.0.0.1:8123/api/"


@pytest.mark.parametrize(
    ("url", "api_url", "allowed"),
    [
        ("https://hooks.slack.com/actions/T0LEEWAY/123/abc", SLACK, True),
        ("https://hooks.slack.com:443/actions/T0LEEWAY/123/abc", SLACK, True),
        ("https://HOOKS.SLACK.COM/actions/T0LEEWAY/123/abc", SLACK, True),
        ("https://hooks.slack.com/commands/T0LEEWAY/123/abc", STANDIN, True),
        ("https://acme.enterprise.slack.com/actions/T0LEEWAY/123/abc", SLACK, True),
        ("https://slack.com/api/x", SLACK, True),  # the configured Web API's host
        # Not over https, or not on Slack's port.
        ("http://hooks.slack.com/actions/T0LEEWAY/123/abc", SLACK, False),
        ("https://hooks.slack.com:8443/actions/T0LEEWAY/123/abc", SLACK, False),
        # Somewhere else, however it is dressed up.
        ("https://evil.example/actions/T0LEEWAY/123/abc", SLACK, False),
        ("https://hooks.slack.com.evil.example/actions/T0LEEWAY/123/abc", SLACK, False),
        ("https://evilslack.com/actions/x", SLACK, False),
        ("https://user@evil.example/actions/x", SLACK, False),
        ("https://user@hooks.slack.com/actions/x", SLACK, False),
        ("https://hooks.slack.com@evil.example/actions/x", SLACK, False),
        ("https://hooks.slack.com\\@evil.example/actions/x", SLACK, False),
        ("https://evil.example#.slack.com", SLACK, False),
        ("https://evil.example?.slack.com", SLACK, False),
        ("https://hooks.slack.com%2eevil.example/x", SLACK, False),
        ("https://hooks.slack.com./actions/x", SLACK, False),
        (" https://hooks.slack.com/actions/x", SLACK, False),
        ("https://hooks.slack.com/actions/x\n", SLACK, False),
        ("https://hooks.slack.com:99999/actions/x", SLACK, False),
        ("https:///actions/x", SLACK, False),
        ("file:///etc/passwd", SLACK, False),
        ("hooks.slack.com/actions/x", SLACK, False),
        ("", SLACK, False),
        # The configured stand-in: its scheme, host and port, and nothing else on that machine.
        ("http://127.0.0.1:8123/response/actions-1", STANDIN, True),
        ("http://127.0.0.1:8124/response/actions-1", STANDIN, False),
        ("http://localhost:8123/response/actions-1", STANDIN, False),
        ("https://127.0.0.1:8123/response/actions-1", STANDIN, False),
        ("http://127.0.0.1:8123/response/actions-1", SLACK, False),
        ("http://127.0.0.1/response/actions-1", "http://127.0.0.1:80/api/", True),
    ],
)
def test_may_reply_to(url: str, api_url: str, allowed: bool) -> None:
    assert may_reply_to(url, api_url=api_url) is allowed
