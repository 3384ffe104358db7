"""The policy's other parts: channels, people, working hours, the digest, the evidence for trust,
the webhooks."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import BeforeValidator, ConfigDict, Field, field_validator, model_validator

from bot.core.policy.fields import Duration, Share, _Frozen
from bot.core.timing import DAY_NAMES, WorkingHours, parse_clock, parse_days, zone
from bot.core.vocabulary import WebhookEvent

_SLACK_USER_OR_GROUP = re.compile(r"^[UWS][A-Z0-9]{2,}$")
_SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")


class Channels(_Frozen):
    requests: str
    decisions: str
    kudos: str

    @field_validator("requests", "decisions", "kudos")
    @classmethod
    def _channel_id(cls, value: str) -> str:
        if not _SLACK_CHANNEL.match(value):
            raise ValueError(
                f"{value!r} is not a channel ID (like C0123ABCD; in Slack: channel details → About → Channel ID)"
            )
        return value


class People(_Frozen):
    agents: tuple[str, ...] = Field(min_length=1)
    leads: tuple[str, ...] = Field(min_length=1)

    @field_validator("agents", "leads")
    @classmethod
    def _people_ids(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not _SLACK_USER_OR_GROUP.match(value):
                raise ValueError(f"{value!r} is not a user ID (U…) or user-group ID (S…)")
        if len(set(values)) != len(values):
            raise ValueError("lists someone twice")
        return values


class WorkingHoursSpec(_Frozen):
    """`{tz: Europe/Warsaw, days: mon-fri, from: "09:00", to: "18:00"}`"""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    tz: str
    days: str = "mon-fri"
    opens: str = Field(alias="from")
    closes: str = Field(alias="to")

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        parse_days(value)
        return value

    @field_validator("opens", "closes", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        parse_clock(value)
        return value

    @model_validator(mode="after")
    def _order(self) -> Self:
        if parse_clock(self.closes) <= parse_clock(self.opens):
            raise ValueError(f"to ({self.closes}) must be later than from ({self.opens})")
        return self

    @property
    def hours(self) -> WorkingHours:
        return WorkingHours(
            tz=zone(self.tz), days=parse_days(self.days), opens=parse_clock(self.opens), closes=parse_clock(self.closes)
        )


class DigestSpec(_Frozen):
    """When leads get the weekly digest and the team its celebration: `{day: mon, at: "09:00"}`."""

    day: str = "mon"
    at: str = "09:00"

    @field_validator("day")
    @classmethod
    def _day(cls, value: str) -> str:
        if value.lower() not in DAY_NAMES:
            raise ValueError(f"{value!r}: use one of {', '.join(DAY_NAMES)}")
        return value.lower()

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, value: Any) -> Any:
        parse_clock(value)
        return value


class TrustSpec(_Frozen):
    """`trust:`: the evidence a suggestion to raise a limit needs (see core.trust)."""

    window: Duration = timedelta(days=30)  # the decisions looked at
    min_decisions: int = Field(default=20, ge=1)  # granted decisions of one remedy at one tier
    min_reviewed: Share = 0.8  # the share of them leads reviewed
    max_talk: Share = 0.05  # the share of the reviewed ones marked "Let's talk" may not exceed this


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EVENT_WORDS = ", ".join(event.value for event in WebhookEvent)


def _events(value: Any) -> Any:
    """Each name one of the event types, said in one line when it isn't."""
    if not isinstance(value, list | tuple):
        raise ValueError(f"list the events to send, from: {_EVENT_WORDS}")
    for name in value:
        if name not in set(WebhookEvent):
            raise ValueError(f"unknown event {name!r}: use {_EVENT_WORDS}")
    return value


class Webhook(_Frozen):
    """`{url: https://…, events: [granted, …], secret_env: LEEWAY_WEBHOOK_SECRET_…}`: a company
    system that carries remedies out, told of each event it subscribes to. The signing secret is
    read from the environment variable named, never written in the file."""

    url: str
    events: Annotated[tuple[WebhookEvent, ...], BeforeValidator(_events)] = Field(min_length=1)
    secret_env: str

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c <= " " for c in value):
            raise ValueError(f"{value!r} is not an http(s) URL (like https://refunds.example.com/leeway)")
        if parts.username is not None or parts.password is not None:
            # The host is shown in /healthz and /metrics: credentials there would be public.
            raise ValueError(
                "holds a user or password: leave them out; receivers verify the Leeway-Signature made "
                "with the secret in secret_env"
            )
        return value

    @field_validator("secret_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError(f"{value!r} is not an environment variable's name (like LEEWAY_WEBHOOK_SECRET_REFUNDS)")
        return value

    @property
    def host(self) -> str:
        """How logs, metrics and /healthz name the endpoint: its host (and port, when written)."""
        parts = urlsplit(self.url)
        return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)

    @property
    def shown(self) -> str:
        """The URL as the log shows it: without its query, which may carry a receiver's token."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{self.host}{parts.path}"

    @property
    def key(self) -> str:
        """The endpoint as its outbox rows name it (in the 32 characters of a channel)."""
        return "webhook:" + hashlib.sha256(self.url.encode()).hexdigest()[:24]
