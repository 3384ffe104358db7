"""A policy file that can't be used ends start-up with one line that says what to fix, at once."""

from __future__ import annotations

import time

import pytest

from bot.policy_file import PolicyError, parse_policy
from tests.policies import TEAM_POLICY

BLOCK_CHANNELS = TEAM_POLICY.replace(
    "channels: {requests: C0REQ, decisions: C0DEC, kudos: C0KUD}",
    "channels:\n  requests: C0REQ\n  decisions: C0DEC\n  kudos: C0KUD",
)


def test_the_block_form_of_the_channels_is_valid() -> None:
    assert parse_policy(BLOCK_CHANNELS).channels.kudos == "C0KUD"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("  kudos: C0KUD", "  kudos:"), "policy.yml line 5: channels.kudos: is empty"),
        (("  kudos: C0KUD", "  kudos: ''"), "policy.yml line 5: channels.kudos: '' is not a channel ID"),
        (
            ("  decisions: C0DEC", "  decisions: #decisions"),
            "policy.yml line 4: channels.decisions: use the channel ID (C…), not its name",
        ),
        (
            ("  decisions: C0DEC", '  decisions: "#decisions"'),
            "policy.yml line 4: channels.decisions: use the channel ID (C…), not its name",
        ),
    ],
)
def test_an_empty_or_named_channel_is_one_clear_line(edit: tuple[str, str], message: str) -> None:
    text = BLOCK_CHANNELS.replace(*edit)
    assert text != BLOCK_CHANNELS
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, source="policy.yml")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_an_empty_value_anywhere_names_its_key() -> None:
    with pytest.raises(PolicyError, match=r"policy.yml line 1: currency: is empty"):
        parse_policy(TEAM_POLICY.replace("currency: USD", "currency:"), source="policy.yml")


def test_an_alias_bomb_is_refused_at_once() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    started = time.monotonic()
    with pytest.raises(PolicyError, match="too large once its aliases are expanded"):
        parse_policy(TEAM_POLICY + "\n".join(lines) + "\n", source="policy.yml")
    assert time.monotonic() - started < 30  # a bound on a hang, not a measure of speed


def test_a_few_aliases_still_work() -> None:
    agents = "[U0ANA, U0BEN, U0CHO, U0DAN]"
    text = TEAM_POLICY.replace(f"  agents: {agents}", f"  agents: &agents {agents}")
    assert "agents: &agents" in text
    assert parse_policy(text).people.agents == ("U0ANA", "U0BEN", "U0CHO", "U0DAN")
