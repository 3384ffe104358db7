"""WEB_CONCURRENCY: how many worker processes serve HTTP."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)  # no .env file
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "x" * 16)
    return monkeypatch


@pytest.mark.parametrize(
    ("value", "workers"),
    [
        (None, os.cpu_count() or 1),  # one per core
        ("1", 1),  # one process, as ever
        ("2", 2),
        ("16", 16),
    ],
)
def test_web_concurrency(environment: pytest.MonkeyPatch, value: str | None, workers: int) -> None:
    if value is not None:
        environment.setenv("WEB_CONCURRENCY", value)
    assert load_settings().web_concurrency == workers


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_web_concurrency_leeway_cannot_use_says_what_to_fix(environment: pytest.MonkeyPatch, value: str) -> None:
    environment.setenv("WEB_CONCURRENCY", value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith("WEB_CONCURRENCY is invalid (")
    assert message.endswith(": WEB_CONCURRENCY must be a number of worker processes, at least 1.")
