"""Drives the bot's HTTP endpoint exactly as Slack would: signed slash commands, interactivity
payloads (button clicks, view submissions) and Events API callbacks.

Only ``urllib.request`` is used for HTTP.  4xx/5xx answers are returned as :class:`Reply`, never
raised; connection failures do raise (the bot is not listening).

The parts: ``signing`` (Slack's request signature), ``client`` (the signed POST and its
:class:`Reply`), ``payloads`` (each kind of request Slack sends, as data), ``blocks`` (finding
buttons in Block Kit), ``view_state`` (a view's submitted state from simple values) and
``slack_driver`` (:class:`SlackDriver`, which puts them together).
"""

from __future__ import annotations

from bot.standin.driver.client import Reply
from bot.standin.driver.signing import sign
from bot.standin.driver.slack_driver import SlackDriver
from bot.standin.driver.view_state import build_state

__all__ = ["Reply", "SlackDriver", "build_state", "sign"]
