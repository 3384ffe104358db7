"""Who may read the metrics: the bearer token on the main port, and the METRICS_* settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings
from bot.web import bearer_matches

TOKEN = "0123456789abcdef-token"


@pytest.mark.parametrize(
    ("authorization", "matches"),
    [
        (f"Bearer {TOKEN}", True),
        (f"bearer {TOKEN}", True),  # the scheme is case-insensitive
        (f"  Bearer   {TOKEN}  ", True),
        ("", False),
        ("Bearer", False),
        ("Bearer ", False),
        (f"Bearer {TOKEN}x", False),
        (f"Bearer {TOKEN[:-1]}", False),
        (f"Bearer {TOKEN.upper()}", False),
        (f"Basic {TOKEN}", False),
        (TOKEN, False),
        ("Bearer caf\xe9", False),  # not ASCII: still just a wrong token
    ],
)
def test_bearer_matches(authorization: str, matches: bool) -> None:
    assert bearer_matches(authorization, TOKEN) is matches


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)  # no .env file
    for name in ("PORT", "METRICS_PORT", "METRICS_HOST", "METRICS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "x" * 16)
    return monkeypatch


@pytest.mark.parametrize(
    ("env", "port", "host", "token"),
    [
        ({}, None, "127.0.0.1", None),  # by default: no metrics anywhere
        ({"METRICS_PORT": "", "METRICS_TOKEN": ""}, None, "127.0.0.1", None),  # empty is unset
        ({"METRICS_PORT": "9100"}, 9100, "127.0.0.1", None),
        ({"METRICS_PORT": "9100", "METRICS_HOST": "0.0.0.0"}, 9100, "0.0.0.0", None),
        ({"METRICS_TOKEN": TOKEN}, None, "127.0.0.1", TOKEN),
    ],
)
def test_metrics_settings(
    environment: pytest.MonkeyPatch, env: dict[str, str], port: int | None, host: str, token: str | None
) -> None:
    for name, value in env.items():
        environment.setenv(name, value)
    settings = load_settings()
    assert (settings.metrics_port, settings.metrics_host) == (port, host)
    assert (settings.metrics_token.get_secret_value() if settings.metrics_token else None) == token


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"METRICS_PORT": "3000"}, "METRICS_PORT is invalid (Value error, PORT serves Slack;"),
        ({"PORT": "8080", "METRICS_PORT": "8080"}, "METRICS_PORT is invalid (Value error, PORT serves Slack;"),
        ({"METRICS_PORT": "0"}, "METRICS_PORT is invalid"),
        ({"METRICS_PORT": "metrics"}, "METRICS_PORT is invalid"),
        ({"METRICS_HOST": ""}, "METRICS_HOST is invalid"),
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN is invalid (Value error, must be at least 16 characters)"),
    ],
)
def test_metrics_settings_leeway_cannot_use_say_what_to_fix(
    environment: pytest.MonkeyPatch, env: dict[str, str], says: str
) -> None:
    for name, value in env.items():
        environment.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value).startswith(says)
