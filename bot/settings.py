"""Settings from the environment (and a `.env` file). Loaded once, in `__main__`, and passed down."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SLACK_API_URL = "https://slack.com/api/"
# The shortest time delivered messages are kept. The weekly digest learns from its own messages
# whether this week's went out, so they must outlive their week: a digest day moved later in the
# week, or a day's catch-up after a restart (bot.jobs.WEEKLY_CATCH_UP), must find them.
OUTBOX_RETENTION_MIN_DAYS = 8

_FIXES = {
    "slack_bot_token": "set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-…, under OAuth & Permissions)",
    "slack_signing_secret": "set SLACK_SIGNING_SECRET to the app's Signing Secret "
    "(Basic Information → App Credentials)",
    "slack_app_token": "SLACK_APP_TOKEN must be an app-level token (xapp-…) with connections:write, or unset",
    "slack_api_url": "SLACK_API_URL must be an http(s) URL such as https://slack.com/api/",
    "database_url": "DATABASE_URL must be a database URL such as sqlite:///leeway.db or postgresql://user:pass@host/db",
    "port": "PORT must be a number from 1 to 65535",
    "leeway_policy": "LEEWAY_POLICY must be the path to the policy file",
    "log_level": "LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR",
    "log_format": "LOG_FORMAT must be text or json",
    "outbox_max_age_seconds": "OUTBOX_MAX_AGE_SECONDS must be a number of seconds, at least 10",
    "outbox_lease_seconds": "OUTBOX_LEASE_SECONDS must be a number of seconds, at least 1",
    "schedule_interval_seconds": "SCHEDULE_INTERVAL_SECONDS must be a number of seconds, at least 1",
    "outbox_retention_days": f"OUTBOX_RETENTION_DAYS must be a number of days, at least {OUTBOX_RETENTION_MIN_DAYS} "
    "(the weekly digest's own messages keep it to once a week), or 0 or off to keep every message",
    "metrics_port": "METRICS_PORT must be a number from 1 to 65535, other than PORT, or unset",
    "metrics_host": "METRICS_HOST must be an address to listen on, such as 127.0.0.1",
    "metrics_token": "METRICS_TOKEN must be at least 16 characters (try `openssl rand -hex 32`), or unset",
    "web_concurrency": "WEB_CONCURRENCY must be a number of worker processes, at least 1",
    "api_rate_limit_per_minute": "API_RATE_LIMIT_PER_MINUTE must be a number of requests, at least 1",
    "api_max_body_bytes": "API_MAX_BODY_BYTES must be a number of bytes from 1024 to 1048576",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr
    slack_signing_secret: SecretStr = Field(min_length=8)
    slack_app_token: SecretStr | None = None
    slack_api_url: str = SLACK_API_URL
    # The app's ID (A…, Basic Information): requests from any other app are ignored. Unset: learned
    # from the first request from Leeway's own workspace.
    slack_app_id: str | None = Field(default=None, pattern=r"^A[A-Z0-9]{2,}$")
    database_url: str = "sqlite:///leeway.db"
    leeway_policy: Path = Path("policy.yml")
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one JSON object a line
    # /healthz answers 503 when the oldest message still owed to Slack is older than this.
    outbox_max_age_seconds: int = Field(default=300, ge=10)
    # How long a sender's claim on a message lasts before another instance may take it over.
    outbox_lease_seconds: int = Field(default=120, ge=1)
    # How often each instance looks for requests to re-route or expire.
    schedule_interval_seconds: int = Field(default=30, ge=1)
    # Messages delivered (or given up on) longer ago than this are forgotten; 0 (or off): never.
    outbox_retention_days: int = Field(default=30, ge=0)
    # Prometheus metrics on a port of their own, on METRICS_HOST (unset: not served there).
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = Field(default="127.0.0.1", min_length=1)
    # When set, /metrics is served on PORT too, to requests that carry it as a bearer token.
    metrics_token: SecretStr | None = None
    # How soon a limit a lead changed on another instance applies here; 0: at every request
    # (a read of the database per request).
    limits_refresh_seconds: float = Field(default=1.0, ge=0, le=60)
    # HTTP worker processes sharing PORT: one per core by default. Socket Mode is one process.
    web_concurrency: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    # The HTTP API (/api/v1/): requests each integration may make a minute, counted in the
    # database so the limit holds across worker processes and instances.
    api_rate_limit_per_minute: int = Field(default=120, ge=1)
    # The largest request body the API reads; a larger one is answered 413 before it is parsed.
    api_max_body_bytes: int = Field(default=65_536, ge=1024, le=1_048_576)

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must start with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must start with xapp-")
        return value

    @field_validator("outbox_retention_days", mode="before")
    @classmethod
    def _retention_off(cls, value: object) -> object:
        return 0 if isinstance(value, str) and value.strip().lower() == "off" else value

    @field_validator("outbox_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if 0 < value < OUTBOX_RETENTION_MIN_DAYS:
            raise ValueError(f"must be at least {OUTBOX_RETENTION_MIN_DAYS}, or 0")
        return value

    @field_validator("metrics_port", "metrics_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("metrics_port")
    @classmethod
    def _metrics_port(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and value == info.data.get("port"):
            raise ValueError("PORT serves Slack; metrics need a port of their own")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return check_database_url(value)

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("use DEBUG, INFO, WARNING or ERROR")
        return value.upper()


class DatabaseSettings(BaseSettings):
    """Only the database: what a command that never talks to Slack needs (`integration`)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///leeway.db"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return check_database_url(value)


def check_database_url(value: str) -> str:
    try:
        url = make_url(value)
    except ArgumentError as error:
        raise ValueError(str(error)) from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql", "postgres"):
        raise ValueError(f"Leeway runs on SQLite or PostgreSQL, not {backend}")
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        raise ValueError("SQLite needs a file, like sqlite:///leeway.db")
    return value


def load_database_settings() -> DatabaseSettings:
    try:
        return DatabaseSettings()
    except ValidationError as error:
        raise SettingsError(
            f"DATABASE_URL is invalid ({error.errors()[0]['msg']}): {_FIXES['database_url']}."
        ) from None


class SettingsError(Exception):
    """One line that says what to fix."""


def load_settings() -> Settings:
    try:
        return Settings()  # type: ignore[call-arg]  # values come from the environment
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        problem = "is missing" if first["type"] == "missing" else f"is invalid ({first['msg']})"
        fix = _FIXES.get(name, "check its value")
        raise SettingsError(f"{name.upper()} {problem}: {fix}.") from None
