"""manifest.yml is what a team pastes into Slack: it must be valid and match what the bot does."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import yaml

from bot.slack.listeners import actions, commands, forms, home, reactions
from bot.slack.listeners.commands import COMMAND
from bot.web import EVENTS_PATH
from tests.support import REPO, SHARED

SCHEMA = SHARED / "slack" / "manifest-schema" / "manifest.schema.2.0.0.json"
WEB_API = SHARED / "slack" / "web-api" / "slack_web_openapi_v2_without_examples.json"


def manifest() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "manifest.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_manifest_validates_against_slacks_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(manifest(), schema)


def test_scopes_are_real_slack_scopes() -> None:
    spec = json.loads(WEB_API.read_text())
    known = set()
    for operations in spec["paths"].values():
        for operation in operations.values():
            for requirement in operation.get("security", []):
                for scopes in requirement.values():
                    known.update(scopes)
    known.add("commands")  # a Slack app scope that no Web API method lists
    # files.completeUploadExternal, newer than the 2020 spec, takes it from bots; the spec knows
    # it only in its legacy user form, files:write:user.
    assert "files:write:user" in known
    known.add("files:write")
    scopes = manifest()["oauth_config"]["scopes"]["bot"]
    # The 2020 spec still names chat:write by its legacy split form, chat:write:bot.
    unknown = {scope for scope in scopes if scope not in known and f"{scope}:bot" not in known}
    assert unknown == set()
    assert {"commands", "chat:write", "im:write", "reactions:read", "users:read", "usergroups:read"} <= set(scopes)
    assert "files:write" in scopes  # a lead's export is a file upload


def test_the_home_and_messages_tabs_are_on() -> None:
    app_home = manifest()["features"]["app_home"]
    assert app_home["home_tab_enabled"] is True
    assert app_home["messages_tab_enabled"] is True


def test_subscribed_events_are_the_ones_the_bot_handles() -> None:

    handled = set()

    class Recorder:
        def event(self, name: str) -> Any:
            handled.add(name)
            return lambda *args, **kwargs: None

        def __getattr__(self, name: str) -> Any:  # command, action, view: not events
            return lambda *args, **kwargs: lambda *a, **k: None

    for module in (reactions, home, forms):
        module.register(Recorder(), ctx=None)
    for module, more in ((actions, {}), (commands, {"reports": None})):
        module.register(Recorder(), ctx=None, sender=None, **more)
    assert set(manifest()["settings"]["event_subscriptions"]["bot_events"]) == handled


def test_the_command_and_urls_point_at_the_bot() -> None:

    data = manifest()
    (command,) = data["features"]["slash_commands"]
    assert command["command"] == COMMAND
    assert command["should_escape"] is True  # mentions arrive as <@U…> for the parser
    settings = data["settings"]
    for url in (
        command["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ):
        assert url.endswith(EVENTS_PATH)
    assert settings["interactivity"]["is_enabled"] is True


def test_the_example_policy_file_is_shipped() -> None:
    assert (REPO / "bot" / "policy.example.yml").is_file()
