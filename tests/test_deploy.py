"""The deploy files are what the tests run: same start command, port and health check."""

from __future__ import annotations

import json
import shlex
from typing import Any

import yaml

from bot.settings import Settings
from tests.e2e.test_process import HEALTH_COMMAND, RUN_COMMAND
from tests.support import REPO


def dockerfile() -> dict[str, list[str]]:
    """Instruction → arguments (of the last stage), with JSON-form commands parsed."""

    found: dict[str, list[str]] = {}
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        word, _, rest = line.strip().partition(" ")
        rest = rest.strip()
        if word == "HEALTHCHECK":
            rest = rest.split(" CMD ", 1)[1]
        found[word] = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
    return found


def compose() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_the_image_starts_leeway_as_the_tests_do() -> None:
    image = dockerfile()
    assert image["CMD"] == ["python", *RUN_COMMAND]
    assert image["HEALTHCHECK"] == ["python", *HEALTH_COMMAND]
    assert image["EXPOSE"] == [str(Settings.model_fields["port"].default)]
    assert image["USER"] == ["leeway"]  # not root


def test_compose_runs_leeway_with_postgresql() -> None:
    services = compose()["services"]
    leeway, db = services["leeway"], services["db"]
    assert db["image"].startswith("postgres:")
    assert leeway["depends_on"]["db"]["condition"] == "service_healthy"
    environment = leeway["environment"]
    assert environment["DATABASE_URL"].startswith("postgresql://")
    assert "@db:5432/" in environment["DATABASE_URL"]
    assert environment["SLACK_BOT_TOKEN"].startswith("${SLACK_BOT_TOKEN:?")  # a clear message when missing
    assert "3000:3000" in leeway["ports"]
    assert any(v.endswith(":" + environment["LEEWAY_POLICY"] + ":ro") for v in leeway["volumes"])
